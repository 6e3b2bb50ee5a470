/**
 * What tandem writes out of the MCP SDK's types so as not to load them wherever it is imported (the
 * handshake revisions its server and client accept, the SDK's own error codes its client tells
 * failures apart by) must be the installed SDK's own, so that an SDK upgrade that changes them is not
 * left unannounced.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { MCP_CALL_CODES } from "../../../src/core/index.js";
import { HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION } from "../../../src/harness/mcp-protocol/index.js";

describe("MCP constants written out of the SDK's types", () => {
  it("the handshake revisions are the SDK's SUPPORTED_PROTOCOL_VERSIONS, newest first", () => {
    assert.deepEqual([...HANDSHAKE_PROTOCOL_VERSIONS], [...SUPPORTED_PROTOCOL_VERSIONS]);
    assert.equal(HANDSHAKE_PROTOCOL_VERSIONS.includes(MODERN_PROTOCOL_VERSION), false);
  });

  it("the client's own failure codes are the SDK's ErrorCode values", () => {
    assert.equal(MCP_CALL_CODES.connectionClosed, ErrorCode.ConnectionClosed);
    assert.equal(MCP_CALL_CODES.requestTimeout, ErrorCode.RequestTimeout);
    assert.equal(MCP_CALL_CODES.invalidParams, ErrorCode.InvalidParams);
  });
});
