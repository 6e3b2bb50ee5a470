/**
 * `mcp_call.error` as openai-node 7.60 and the OpenAPI spec type it (McpToolCallError: one of
 * `mcp_protocol_error {code, message}`, `mcp_tool_execution_error {content}`, `http_error {code,
 * message}`; a string in openai-node 6.49), for each kind of failure tandem's MCP host meets: a tool
 * result with isError, the server's JSON-RPC error, an HTTP error status, a timeout, a tool the
 * server does not offer. Through the Responses API whole and streamed, and read back (the response,
 * a conversation's items), items stored with a text error before included. A real MCP server over
 * Streamable HTTP (test/support/mcp-test-server.ts); the model is a fake OpenAI chat upstream.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { StoredItem } from "../../src/core/state.js";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type McpHttpServer, startMcpHttpServer } from "../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let mcp: McpHttpServer;
let tandem: RunningTandem;
let client: OpenAI;
const state = new MemoryStateStore();

const MODEL = "openai/gpt-4o-mini";
const messagesOf = (request: RecordedRequest | undefined) =>
  ((request?.body ?? {}) as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? [];

/** The model calls `tool` with `args` first, then answers. */
function callThenAnswer(tool: string, args: Record<string, unknown>): void {
  upstream.script((request) =>
    messagesOf(request).at(-1)?.role === "tool"
      ? { kind: "text", text: "Done." }
      : { kind: "tool_calls", calls: [{ name: tool, arguments: args }] },
  );
}

const tools = () => [{ type: "mcp", server_label: "web", server_url: mcp.url, require_approval: "never" }];

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  mcp = await startMcpHttpServer({ failingCalls: true });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP"], local: false } },
      mcp: { callTimeoutMs: 300 },
    },
    { env: { UP: "sk-upstream" }, state },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([upstream?.close(), mcp?.close()]);
});

type Check = (error: Record<string, unknown>) => void;
const CASES: Array<[string, string, Record<string, unknown>, Check]> = [
  [
    "a tool result with isError",
    "fail",
    {},
    (error) => assert.deepEqual(error, { type: "mcp_tool_execution_error", content: [{ type: "text", text: "it broke" }] }),
  ],
  [
    "the server's JSON-RPC error",
    "rpc_error",
    {},
    (error) => {
      assert.deepEqual({ type: error.type, code: error.code }, { type: "mcp_protocol_error", code: -32050 });
      assert.match(String(error.message), /the index is offline/);
    },
  ],
  [
    "an HTTP error status",
    "http_error",
    {},
    (error) => {
      assert.deepEqual({ type: error.type, code: error.code }, { type: "http_error", code: 503 });
      assert.match(String(error.message), /HTTP 503/);
    },
  ],
  [
    "a timeout (mcp.callTimeoutMs)",
    "slow",
    { ms: 5000 },
    (error) => {
      assert.deepEqual({ type: error.type, code: error.code }, { type: "mcp_protocol_error", code: -32001 });
      assert.match(String(error.message), /timed out after 300 ms/);
    },
  ],
  [
    "a tool the server does not offer",
    "no_such_tool",
    {},
    (error) => {
      assert.deepEqual({ type: error.type, code: error.code }, { type: "mcp_protocol_error", code: -32602 });
      assert.match(String(error.message), /offers no tool named 'no_such_tool'/);
    },
  ],
];

/** The SDK's types are 6.49's (error: string): the wire is read as it is. */
const mcpCallOf = (output: unknown[]) =>
  output.find((item) => (item as { type?: string }).type === "mcp_call") as Record<string, unknown> | undefined;

describe("mcp_call.error is OpenAI's McpToolCallError object", () => {
  for (const [what, tool, args, check] of CASES) {
    it(`for ${what}: whole, streamed, retrieved, in a conversation's items`, async () => {
      callThenAnswer(`mcp__web__${tool}`, args);
      const conversation = await client.conversations.create({});
      const whole = (await client.responses.create({
        model: MODEL,
        input: "Use the tool",
        tools: tools(),
        conversation: conversation.id,
      } as never)) as unknown as { id: string; output: unknown[] };
      const call = mcpCallOf(whole.output);
      assert.equal(call?.status, "failed", JSON.stringify(call));
      check(call?.error as Record<string, unknown>);

      const retrieved = (await client.responses.retrieve(whole.id)) as unknown as { output: unknown[] };
      assert.deepEqual(mcpCallOf(retrieved.output)?.error, call?.error);
      const items = await client.conversations.items.list(conversation.id);
      assert.deepEqual(mcpCallOf(items.data)?.error, call?.error);
      const one = await client.conversations.items.retrieve(String(call?.id), { conversation_id: conversation.id });
      assert.deepEqual((one as unknown as Record<string, unknown>).error, call?.error);

      callThenAnswer(`mcp__web__${tool}`, args);
      const stream = await client.responses.create({
        model: MODEL,
        input: "Use the tool",
        tools: tools(),
        stream: true,
      } as never);
      const events: Array<Record<string, unknown>> = [];
      for await (const event of stream as unknown as AsyncIterable<Record<string, unknown>>) events.push(event);
      assert.ok(events.some((e) => e.type === "response.mcp_call.failed"));
      const done = events.find((e) => e.type === "response.output_item.done" && (e.item as { type: string }).type === "mcp_call");
      check((done?.item as { error: Record<string, unknown> }).error);
      const completed = events.find((e) => e.type === "response.completed") as { response: { output: unknown[] } };
      check(mcpCallOf(completed.response.output)?.error as Record<string, unknown>);
    });
  }

  it("renders an mcp_call stored with a text error (before this, or sent by an openai-node 6 client) as a tool's error", async () => {
    // A 6.49 client sends the item back into a conversation with its error as a string.
    const conversation = await client.conversations.create({});
    const sent = { type: "mcp_call", server_label: "web", name: "fail", arguments: "{}", status: "failed", error: "it broke" };
    const added = await fetch(`${tandem.url}/v1/conversations/${conversation.id}/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [sent] }),
    }).then((r) => r.json() as Promise<{ data: Array<Record<string, unknown>> }>);
    const textError = { type: "mcp_tool_execution_error", content: [{ type: "text", text: "it broke" }] };
    assert.deepEqual(added.data[0]?.error, textError);
    const listed = await client.conversations.items.list(conversation.id);
    assert.deepEqual(mcpCallOf(listed.data)?.error, textError);

    // A response stored before mcp_call.error was an object: its row holds the text.
    callThenAnswer("mcp__web__fail", {});
    const fresh = await client.responses.create({ model: MODEL, input: "Use the tool", tools: tools() } as never);
    const stored = await state.getResponse(fresh.id);
    assert.ok(stored !== undefined);
    const legacy = (kept: StoredItem): StoredItem =>
      kept.item.type === "mcp_call" ? { ...kept, item: { ...kept.item, error: "it broke" } } : kept;
    const old = "resp_legacy0000000000000000000000000000000000000000";
    await state.saveResponse({
      ...stored,
      id: old,
      response: {
        ...stored.response,
        id: old,
        output: (stored.response.output as Array<Record<string, unknown>>).map((item) =>
          item.type === "mcp_call" ? { ...item, error: "it broke" } : item,
        ),
      },
      output: stored.output.map(legacy),
    });
    const retrieved = (await client.responses.retrieve(old)) as unknown as { output: unknown[] };
    assert.deepEqual(mcpCallOf(retrieved.output)?.error, textError);
    // And the model still reads it as the tool's error on the next turn.
    upstream.script(() => ({ kind: "text", text: "Noted." }));
    await client.responses.create({ model: MODEL, input: "What happened?", previous_response_id: old });
    const toolMessage = messagesOf(upstream.requests.at(-1)).find((m) => m.role === "tool");
    assert.equal(toolMessage?.content, "Error: it broke");
  });
});
