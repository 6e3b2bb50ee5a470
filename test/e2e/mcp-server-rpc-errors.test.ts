/**
 * A configured stdio MCP server that answers a call with a JSON-RPC error (code -32000, which the
 * SDK also uses for a connection that closed), on a route with `privacy: redact` and the server's
 * tools: the error is that call's tool error with the server's own message, redacted for the cloud
 * model as any tool result is, and the server stays up for the next request (no 424, no restart).
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { MCP_RAW_STDIO_SERVER } from "../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

type WireMessage = { role: string; content?: unknown };
const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
      mcp: { servers: { raw: MCP_RAW_STDIO_SERVER } },
      routes: { lookup: { tiers: ["openai/gpt-4o-mini"], privacy: "redact", tools: ["mcp:raw"] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

it("a JSON-RPC error to tools/call is the call's error with the server's message, redacted, and the server stays up", async () => {
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") return { kind: "text", text: "The lookup failed." };
    return {
      kind: "tool_calls",
      calls: [{ name: "mcp__raw__rpc_error", arguments: { message: "no such customer: mallory@example.com" } }],
    };
  });
  const first = await client.chat.completions.create({
    model: "lookup",
    messages: [{ role: "user", content: "Look up Mallory" }],
  });
  assert.equal(first.choices[0]?.message.content, "The lookup failed.");
  const toolMessage = String(messagesOf(upstream.requests.at(-1)).at(-1)?.content);
  assert.match(toolMessage, /^Error: tool 'rpc_error' of MCP server 'raw' failed: .*no such customer: \[EMAIL_1\]$/);
  assert.doesNotMatch(toolMessage, /mallory@example\.com|exited/);

  // The next request on the route finds the server running (it was not killed for the error).
  upstream.script((request) =>
    messagesOf(request).at(-1)?.role === "tool"
      ? { kind: "text", text: `pid ${String(messagesOf(request).at(-1)?.content)}` }
      : { kind: "tool_calls", calls: [{ name: "mcp__raw__pid", arguments: {} }] },
  );
  const second = await client.chat.completions.create({ model: "lookup", messages: [{ role: "user", content: "Which pid?" }] });
  assert.match(second.choices[0]?.message.content ?? "", /^pid \d+$/);
});
