/**
 * The tools tandem's MCP server lists, as an MCP client sees them (the SDK's Client over its
 * in-memory transport): their annotations say what a client may run without asking the user.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Gateway } from "../../../src/core/index.js";
import { createTandemMcpServer, type TandemMcpServerOptions } from "../../../src/harness/mcp-server/index.js";

async function listed(options: Partial<TandemMcpServerOptions>) {
  const { server } = createTandemMcpServer({ gateway: {} as Gateway, version: "0.0.0-test", ...options });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "annotations-test", version: "1.0.0" });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  try {
    return new Map((await client.listTools()).tools.map((tool) => [tool.name, tool]));
  } finally {
    await client.close();
    await server.close();
  }
}

describe("tandem's MCP tools: annotations", () => {
  it("marks ask_model read-only only when no route runs tools for the model", async () => {
    const plain = await listed({ askModelRunsTools: false });
    assert.equal(plain.get("ask_model")?.annotations?.readOnlyHint, true);
    // A route's tools (or memory: on's remember/forget) may write: a client must not run it unasked.
    const withTools = await listed({ askModelRunsTools: true });
    assert.equal(withTools.get("ask_model")?.annotations?.readOnlyHint, false);
    assert.equal(withTools.get("list_models")?.annotations?.readOnlyHint, true);
    const unsaid = await listed({});
    assert.equal(unsaid.get("ask_model")?.annotations?.readOnlyHint, false);
  });
});
