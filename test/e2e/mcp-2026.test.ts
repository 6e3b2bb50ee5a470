/**
 * tandem's /mcp under MCP's stateless revision, 2026-07-28 (basic/versioning, basic/index,
 * basic/transports/streamable-http, server/discover, server/tools, server/utilities/caching;
 * schema/2026-07-28/schema.ts), by raw HTTP as a modern client sends it: Claude Code's probe,
 * a whole session without a handshake, the header rules, the version and method errors. The
 * handshake revisions on the same endpoint are mcp-spec.test.ts's and mcp-server.test.ts's.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { z } from "zod";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import {
  CallToolResultSchema,
  DiscoverResultSchema,
  HeaderMismatchErrorSchema,
  JSONRPCErrorResponseSchema,
  JSONRPCResultResponseSchema,
  ListToolsResultSchema,
  UnsupportedProtocolVersionErrorSchema,
} from "../support/mcp-2026-shapes.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const KEY = "mcp-2026-client-key-0123456789";
const VERSION = "2026-07-28";

let upstream: FakeUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["tiny"] });
  upstream.script(() => ({ kind: "text", text: "hello", usage: { input: 2, output: 1 } }));
  tandem = await startTandem(
    {
      providers: { local: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: true } },
      routes: { here: { tiers: ["local/tiny"] } },
    },
    { env: { UP_KEY: "sk-up" }, clientKeys: [KEY] },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const CLIENT_META = {
  "io.modelcontextprotocol/protocolVersion": VERSION,
  "io.modelcontextprotocol/clientInfo": { name: "claude-code", version: "2.1.332" },
  "io.modelcontextprotocol/clientCapabilities": { roots: {}, elicitation: { form: {} } },
};

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON-RPC message of the answer: its JSON body, or its one SSE event's data. */
  message: Record<string, unknown> | undefined;
}

async function post(
  body: unknown,
  headers: Record<string, string> = {},
  accept = "application/json, text/event-stream",
): Promise<Answer> {
  const res = await fetch(`${tandem.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept, authorization: `Bearer ${KEY}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const data = res.headers.get("content-type")?.startsWith("text/event-stream")
    ? text
        .split("\n")
        .find((line) => line.startsWith("data: "))
        ?.slice(6)
    : text;
  return { status: res.status, headers: res.headers, text, message: data ? JSON.parse(data) : undefined };
}

/** A 2026-07-28 request with its _meta and the headers the transport asks for. */
function modern(id: number | string, method: string, params: Record<string, unknown> = {}, meta = CLIENT_META) {
  const headers: Record<string, string> = { "mcp-protocol-version": VERSION, "mcp-method": method };
  if (typeof params.name === "string") headers["mcp-name"] = params.name;
  return { body: { jsonrpc: "2.0", id, method, params: { ...params, _meta: meta } }, headers };
}

async function call(id: number | string, method: string, params: Record<string, unknown> = {}): Promise<Answer> {
  const request = modern(id, method, params);
  return post(request.body, request.headers);
}

function resultOf<T extends z.ZodType>(answer: Answer, schema: T): z.infer<T> {
  assert.equal(answer.status, 200, answer.text);
  const response = JSONRPCResultResponseSchema.parse(answer.message);
  return schema.parse(response.result);
}

function errorOf(answer: Answer, status: number, code: number): { code: number; message: string; data?: unknown } {
  assert.equal(answer.status, status, answer.text);
  const response = JSONRPCErrorResponseSchema.parse(answer.message);
  assert.equal(response.error.code, code, answer.text);
  return response.error;
}

describe("/mcp under 2026-07-28", () => {
  it("answers Claude Code's server/discover probe with a DiscoverResult naming both eras' versions", async () => {
    const answer = await post(
      {
        jsonrpc: "2.0",
        id: "server-discover-probe-1",
        method: "server/discover",
        params: { _meta: CLIENT_META },
      },
      { "mcp-method": "server/discover", "mcp-protocol-version": VERSION },
    );
    const result = resultOf(answer, DiscoverResultSchema);
    assert.equal((answer.message as { id: unknown }).id, "server-discover-probe-1");
    assert.equal(result.resultType, "complete");
    assert.equal(result.supportedVersions[0], VERSION);
    // The published revisions only (the SDK's 2024-10-07 names none).
    assert.deepEqual(result.supportedVersions, [VERSION, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]);
    assert.deepEqual(result.capabilities, { tools: { listChanged: false } });
    assert.match(result.instructions ?? "", /list_models/);
    assert.equal(result._meta?.["io.modelcontextprotocol/serverInfo"]?.name, "tandem");
    assert.ok(result.ttlMs >= 0);
    assert.equal(answer.headers.get("mcp-session-id"), null, "no session in a stateless revision");
  });

  it("serves a whole session without a handshake: discover, tools/list, tools/call of list_models and remember", async () => {
    resultOf(await call(1, "server/discover"), DiscoverResultSchema);

    const list = resultOf(await call(2, "tools/list"), ListToolsResultSchema);
    assert.equal(list.resultType, "complete");
    assert.equal(list.cacheScope, "public");
    assert.ok(list.ttlMs > 0);
    assert.equal(list.nextCursor, undefined);
    assert.equal(list._meta?.["io.modelcontextprotocol/serverInfo"]?.name, "tandem");
    assert.deepEqual(list.tools.map((tool) => tool.name).sort(), [
      "ask_model",
      "forget",
      "list_models",
      "remember",
      "search_memories",
    ]);

    const models = resultOf(await call(3, "tools/call", { name: "list_models", arguments: {} }), CallToolResultSchema);
    assert.equal(models.resultType, "complete");
    assert.notEqual(models.isError, true);
    const names = (models.structuredContent as { models: Array<{ name: string }> }).models.map((m) => m.name);
    assert.ok(names.includes("here") && names.includes("local/tiny"), names.join(", "));
    assert.equal(models._meta?.["io.modelcontextprotocol/serverInfo"]?.name, "tandem");
    assert.equal("ttlMs" in models, false, "a tool result is not cacheable");

    const saved = resultOf(
      await call(4, "tools/call", { name: "remember", arguments: { text: "The user prefers tea to coffee" } }),
      CallToolResultSchema,
    );
    assert.notEqual(saved.isError, true, JSON.stringify(saved));
    const id = (saved.structuredContent as { id: string }).id;
    assert.match(id, /^mem_/);
    const stored = await fetch(`${tandem.url}/v1/memories?limit=100`, { headers: { authorization: `Bearer ${KEY}` } });
    const memories = ((await stored.json()) as { data: Array<{ id: string; text: string }> }).data;
    assert.equal(memories.find((m) => m.id === id)?.text, "The user prefers tea to coffee");

    const asked = resultOf(
      await call(5, "tools/call", { name: "ask_model", arguments: { model: "here", prompt: "Say hello" } }),
      CallToolResultSchema,
    );
    assert.equal((asked.structuredContent as { answer: string }).answer, "hello");
  });

  it("answers a tool call of an unknown tool or bad arguments as the handshake path does (-32602, a tool error)", async () => {
    errorOf(await call(6, "tools/call", { name: "no_such_tool", arguments: {} }), 200, -32602);
    const bad = resultOf(await call(7, "tools/call", { name: "remember", arguments: { text: 5 } }), CallToolResultSchema);
    assert.equal(bad.isError, true);
  });

  it("takes an Mcp-Name sent in the Base64 sentinel form", async () => {
    const request = modern(8, "tools/call", { name: "list_models", arguments: {} });
    const encoded = `=?base64?${Buffer.from("list_models").toString("base64")}?=`;
    resultOf(await post(request.body, { ...request.headers, "mcp-name": encoded }), CallToolResultSchema);
  });

  it("refuses missing or mismatched Mcp-Method, Mcp-Name and MCP-Protocol-Version headers with 400 HeaderMismatch", async () => {
    const list = modern(9, "tools/list");
    const toolCall = modern(10, "tools/call", { name: "list_models", arguments: {} });
    const cases: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      ["no Mcp-Method", list.body, { "mcp-protocol-version": VERSION }],
      ["another Mcp-Method", list.body, { ...list.headers, "mcp-method": "tools/call" }],
      ["no Mcp-Name", toolCall.body, { "mcp-protocol-version": VERSION, "mcp-method": "tools/call" }],
      ["another Mcp-Name", toolCall.body, { ...toolCall.headers, "mcp-name": "ask_model" }],
      ["bad Base64 in Mcp-Name", toolCall.body, { ...toolCall.headers, "mcp-name": "=?base64?!!!?=" }],
      ["a header version other than _meta's", list.body, { ...list.headers, "mcp-protocol-version": "2025-11-25" }],
      ["no MCP-Protocol-Version", list.body, { "mcp-method": "tools/list" }],
    ];
    for (const [what, body, headers] of cases) {
      const answer = await post(body, headers);
      assert.equal(answer.status, 400, `${what}: ${answer.text}`);
      const error = HeaderMismatchErrorSchema.parse(answer.message);
      assert.equal(error.id, (body as { id: number }).id, what);
    }
  });

  it("refuses an unsupported version with 400 UnsupportedProtocolVersion listing the supported ones", async () => {
    const meta = { ...CLIENT_META, "io.modelcontextprotocol/protocolVersion": "1900-01-01" };
    const request = modern(11, "tools/list", {}, meta);
    const answer = await post(request.body, { ...request.headers, "mcp-protocol-version": "1900-01-01" });
    assert.equal(answer.status, 400, answer.text);
    const error = UnsupportedProtocolVersionErrorSchema.parse(answer.message).error;
    assert.equal(error.data.requested, "1900-01-01");
    assert.deepEqual(error.data.supported, [VERSION, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]);
    // The header alone, on a request without _meta, is refused the same way.
    const headerOnly = await post({ jsonrpc: "2.0", id: 12, method: "tools/list" }, { "mcp-protocol-version": "2099-01-01" });
    assert.equal(UnsupportedProtocolVersionErrorSchema.parse(headerOnly.message).error.data.requested, "2099-01-01");
  });

  it("refuses a request without its required _meta fields with 400 -32602", async () => {
    const { "io.modelcontextprotocol/clientCapabilities": _caps, ...noCapabilities } = CLIENT_META;
    const request = modern(13, "tools/list", {}, noCapabilities as typeof CLIENT_META);
    assert.match(errorOf(await post(request.body, request.headers), 400, -32602).message, /clientCapabilities/);
    const bare = await post(
      { jsonrpc: "2.0", id: 14, method: "tools/list" },
      { "mcp-protocol-version": VERSION, "mcp-method": "tools/list" },
    );
    assert.match(errorOf(bare, 400, -32602).message, /protocolVersion/);
  });

  it("answers ping and initialize (removed from this revision) and unserved methods with 404 Method not found", async () => {
    errorOf(await call(15, "ping"), 404, -32601);
    const init = errorOf(
      await call(16, "initialize", { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: "x", version: "1" } }),
      404,
      -32601,
    );
    assert.match(init.message, /2025-11-25/, "names the versions that have a handshake");
    errorOf(await call(17, "resources/list"), 404, -32601);
  });

  it("answers in one SSE event to a client that takes only event streams, and 406 to one that takes neither", async () => {
    const request = modern(18, "server/discover");
    const sse = await post(request.body, request.headers, "text/event-stream");
    assert.equal(sse.headers.get("content-type"), "text/event-stream");
    assert.match(sse.text, /^event: message\ndata: /);
    resultOf(sse, DiscoverResultSchema);
    const neither = await post(request.body, request.headers, "text/html");
    assert.equal(neither.status, 406);
    assert.equal(JSONRPCErrorResponseSchema.parse(neither.message).id, undefined);
  });

  it("takes a notification with 202, refuses a batch and a response with 400", async () => {
    const note = await post(
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: CLIENT_META } },
      { "mcp-protocol-version": VERSION, "mcp-method": "notifications/cancelled" },
    );
    assert.equal(note.status, 202);
    assert.equal(note.text, "");
    const batch = await post([modern(19, "tools/list").body], { "mcp-protocol-version": VERSION, "mcp-method": "tools/list" });
    assert.equal(batch.status, 400);
    const response = await post({ jsonrpc: "2.0", id: 20, result: {} }, { "mcp-protocol-version": VERSION });
    assert.equal(response.status, 400);
  });

  it("answers odd bodies declaring 2026-07-28 with a JSON-RPC error, never a 5xx", async () => {
    const version = { "mcp-protocol-version": VERSION };
    const cases: Array<[unknown, Record<string, string>]> = [
      [
        { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: null } },
        { ...version, "mcp-method": "tools/list" },
      ],
      [
        { jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: [] } },
        { ...version, "mcp-method": "tools/list" },
      ],
      [
        {
          jsonrpc: "2.0",
          id: 3,
          method: "tools/list",
          params: { _meta: { ...CLIENT_META, "io.modelcontextprotocol/protocolVersion": 2026 } },
        },
        {},
      ],
      [
        {
          jsonrpc: "2.0",
          id: 4,
          method: "tools/list",
          params: { _meta: { ...CLIENT_META, "io.modelcontextprotocol/clientCapabilities": [] } },
        },
        { ...version, "mcp-method": "tools/list" },
      ],
      [
        { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: 5, _meta: CLIENT_META } },
        { ...version, "mcp-method": "tools/call", "mcp-name": "5" },
      ],
      [
        { jsonrpc: "2.0", id: 6, method: "tools/call", params: { _meta: CLIENT_META } },
        { ...version, "mcp-method": "tools/call", "mcp-name": "x" },
      ],
      [
        { jsonrpc: "2.0", id: 7, method: "__proto__", params: { _meta: CLIENT_META } },
        { ...version, "mcp-method": "__proto__" },
      ],
      [
        { jsonrpc: "2.0", id: 8, method: "x".repeat(5000), params: { _meta: CLIENT_META } },
        { ...version, "mcp-method": "x".repeat(5000) },
      ],
      [
        { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "remember", arguments: [], _meta: CLIENT_META } },
        { ...version, "mcp-method": "tools/call", "mcp-name": "remember" },
      ],
      [
        {
          jsonrpc: "2.0",
          id: 10,
          method: "server/discover",
          params: { _meta: { ...CLIENT_META, "io.modelcontextprotocol/clientInfo": "me" } },
        },
        { ...version, "mcp-method": "server/discover" },
      ],
    ];
    for (const [body, headers] of cases) {
      const answer = await post(body, headers);
      assert.ok(answer.status >= 200 && answer.status < 500, `${answer.status}: ${answer.text}`);
      assert.ok(JSONRPCErrorResponseSchema.safeParse(answer.message).success, `${answer.status}: ${answer.text.slice(0, 300)}`);
    }
  });

  it("keeps the front door: a request without the key is refused before the MCP rules", async () => {
    const request = modern(21, "server/discover");
    const res = await fetch(`${tandem.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...request.headers },
      body: JSON.stringify(request.body),
    });
    assert.equal(res.status, 401);
  });
});
