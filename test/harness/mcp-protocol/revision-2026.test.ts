/**
 * The handshake revisions tandem's MCP server and client accept are written out (so the module does
 * not load the SDK's types wherever it is imported): they must be the installed SDK's own, so that an
 * SDK upgrade that speaks another revision is not left unannounced.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION } from "../../../src/harness/mcp-protocol/index.js";

describe("MCP protocol revisions", () => {
  it("the handshake revisions are the SDK's SUPPORTED_PROTOCOL_VERSIONS, newest first", () => {
    assert.deepEqual([...HANDSHAKE_PROTOCOL_VERSIONS], [...SUPPORTED_PROTOCOL_VERSIONS]);
    assert.equal(HANDSHAKE_PROTOCOL_VERSIONS.includes(MODERN_PROTOCOL_VERSION), false);
  });
});
