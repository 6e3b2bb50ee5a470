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

describe("tandem's MCP tools: internal failures", () => {
  it("answers the client without the detail and hands the failure to the server log", async () => {
    const failure = new Error("ENOENT: /home/me/.local/share/tandem/catalog.json");
    const logged: Array<{ err: unknown; tool: string }> = [];
    const gateway = { models: () => Promise.reject(failure) } as unknown as Gateway;
    const { server } = createTandemMcpServer({
      gateway,
      version: "0.0.0-test",
      onInternalError: (err, tool) => logged.push({ err, tool }),
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "internal-error-test", version: "1.0.0" });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const result = await client.callTool({ name: "list_models", arguments: {} });
      assert.equal(result.isError, true);
      const text = (result.content as Array<{ text: string }>)[0]?.text ?? "";
      assert.equal(text, "Internal error in tandem (see the server log)");
      assert.deepEqual(logged, [{ err: failure, tool: "list_models" }], "the log gets what the client was not told");
    } finally {
      await client.close();
      await server.close();
    }
  });
});
