/**
 * Which era answers a POST to /mcp (2026-07-28's rules here, the SDK's transport for the handshake
 * revisions), the Base64 sentinel of 2026-07-28's header values, and a request served by the same
 * SDK server the handshake path runs, its answer given the revision's fields.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Gateway } from "../../../src/core/index.js";
import { decodeHeaderValue, encodeHeaderValue } from "../../../src/harness/mcp-protocol/index.js";
import {
  answerModernRequest,
  createTandemMcpServer,
  isModernRequest,
  MODERN_PROTOCOL_VERSION,
} from "../../../src/harness/mcp-server/index.js";

const meta = (version: unknown) => ({
  "io.modelcontextprotocol/protocolVersion": version,
  "io.modelcontextprotocol/clientCapabilities": {},
});
const request = (version: unknown) => ({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: meta(version) } });
const legacy = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {} } };

describe("isModernRequest", () => {
  it("takes a request declaring 2026-07-28 in _meta or the header, or a version no era knows", () => {
    assert.equal(isModernRequest(request(MODERN_PROTOCOL_VERSION), undefined), true);
    assert.equal(isModernRequest({ jsonrpc: "2.0", id: 1, method: "tools/list" }, MODERN_PROTOCOL_VERSION), true);
    assert.equal(isModernRequest(request("1900-01-01"), undefined), true);
    assert.equal(isModernRequest(request(7), undefined), true);
    assert.equal(isModernRequest([request(MODERN_PROTOCOL_VERSION)], "2099-01-01"), true);
  });

  it("leaves the handshake revisions to the SDK: no version said, or one of the SDK's", () => {
    assert.equal(isModernRequest(legacy, undefined), false);
    assert.equal(isModernRequest({ jsonrpc: "2.0", id: 2, method: "tools/list" }, "2025-06-18"), false);
    assert.equal(isModernRequest(request("2025-11-25"), "2025-11-25"), false);
    assert.equal(isModernRequest([legacy], undefined), false);
    assert.equal(isModernRequest("not an object", undefined), false);
  });
});

describe("encodeHeaderValue", () => {
  it("keeps a header-safe value and Base64-encodes the rest, as the spec's examples", () => {
    assert.equal(encodeHeaderValue("us-west1"), "us-west1");
    assert.equal(encodeHeaderValue("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
    assert.equal(encodeHeaderValue(" padded "), "=?base64?IHBhZGRlZCA=?=");
    assert.equal(encodeHeaderValue("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
    assert.equal(encodeHeaderValue("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
  });
});

describe("decodeHeaderValue", () => {
  it("decodes the =?base64?…?= sentinel as UTF-8 and keeps a plain value", () => {
    assert.equal(decodeHeaderValue("get_weather"), "get_weather");
    assert.equal(decodeHeaderValue("=?base64?SGVsbG8sIOS4lueVjA==?="), "Hello, 世界");
    assert.equal(decodeHeaderValue("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="), "=?base64?literal?=");
  });

  it("finds no value in a sentinel that holds no valid Base64", () => {
    assert.equal(decodeHeaderValue("=?base64?not base64!?="), undefined);
    assert.equal(decodeHeaderValue("=?base64?abc?="), undefined);
  });
});

describe("answerModernRequest", () => {
  it("serves tools/list by the SDK server with resultType, caching hints and serverInfo, and no task field", async () => {
    const mcp = createTandemMcpServer({ gateway: {} as Gateway, version: "0.0.0-test" });
    try {
      const answer = await answerModernRequest(
        request(MODERN_PROTOCOL_VERSION),
        { "mcp-protocol-version": MODERN_PROTOCOL_VERSION, "mcp-method": "tools/list" },
        mcp,
      );
      assert.equal(answer.status, 200);
      const result = (answer.message as { result: Record<string, unknown> }).result;
      assert.equal(result.resultType, "complete");
      assert.equal(result.cacheScope, "public");
      assert.equal(typeof result.ttlMs, "number");
      assert.deepEqual((result._meta as Record<string, unknown>)["io.modelcontextprotocol/serverInfo"], mcp.serverInfo);
      const tools = result.tools as Array<Record<string, unknown>>;
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ["ask_model", "list_models"]);
      for (const tool of tools) assert.equal(Object.hasOwn(tool, "execution"), false, String(tool.name));
    } finally {
      await mcp.server.close();
    }
  });
});
