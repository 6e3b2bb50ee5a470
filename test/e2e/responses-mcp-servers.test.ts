/**
 * MCP tools end to end, with nothing scripted on the MCP side: a real MCP server over Streamable HTTP
 * (named by the request's server_url, with a bearer token) and a real stdio server configured in
 * tandem (`mcp.servers`, named by its label alone), both built with the MCP SDK, and a server of MCP
 * 2026-07-28 only (no initialize; by URL, and configured for a route's tools); the model is a fake
 * OpenAI chat upstream that calls their tools. Driven through the openai SDK and through the OpenAI
 * Agents SDK's hostedMcpTool (tracing off, so nothing leaves 127.0.0.1).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Agent, hostedMcpTool, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from "@openai/agents";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type Mcp2026Server, startMcp2026Server } from "../support/mcp-2026-server.js";
import { MCP_STDIO_SERVER, type McpHttpServer, startMcpHttpServer } from "../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let web: McpHttpServer;
let modern: Mcp2026Server;
let tandem: RunningTandem;
let client: OpenAI;

const messagesOf = (request: RecordedRequest | undefined) =>
  ((request?.body ?? {}) as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? [];

/** The model: calls `tool` with `args` first, then answers with what the tool said. */
function callThenAnswer(tool: string, args: Record<string, unknown>): void {
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") return { kind: "text", text: `The tool said: ${String(last.content)}` };
    return { kind: "tool_calls", calls: [{ name: tool, arguments: args }] };
  });
}

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  web = await startMcpHttpServer({ bearer: "web-token-123" });
  modern = await startMcp2026Server({ bearer: "modern-token-456", sse: true });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
      routes: { modern: { tiers: ["openai/gpt-4o-mini"], tools: ["mcp:modern"] } },
      mcp: {
        servers: {
          files: MCP_STDIO_SERVER,
          modern: { url: modern.url, headers: { Authorization: "Bearer modern-token-456" } },
          // Nothing listens there.
          down: { url: "http://127.0.0.1:9/mcp" },
        },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([upstream?.close(), web?.close(), modern?.close()]);
});

beforeEach(() => {
  upstream.requests.length = 0;
});

describe("mcp tools against real MCP servers", () => {
  it("calls a server named by URL, with its token, and gives the model its output", async () => {
    callThenAnswer("mcp__web__echo", { text: "hello from MCP" });
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Echo something",
      tools: [
        { type: "mcp", server_label: "web", server_url: web.url, authorization: "web-token-123", require_approval: "never" },
      ],
    });
    assert.deepEqual(
      response.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    const listed = response.output[0];
    assert.ok(listed?.type === "mcp_list_tools");
    assert.ok(listed.tools.some((tool) => tool.name === "echo" && tool.description === "Says the text back"));
    const call = response.output[1];
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.output, "hello from MCP");
    assert.equal(response.output_text, "The tool said: hello from MCP");
    // The token reached the MCP server, and is not echoed back in the Response.
    assert.ok(web.requests.every((headers) => headers.authorization === "Bearer web-token-123"));
    assert.doesNotMatch(JSON.stringify(response), /web-token-123/);
  });

  it("calls a server of MCP 2026-07-28 only, named by URL, without a handshake", async () => {
    callThenAnswer("mcp__now__echo", { text: "hello from 2026" });
    const before = modern.requests.length;
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Echo something",
      tools: [
        {
          type: "mcp",
          server_label: "now",
          server_url: modern.url,
          authorization: "modern-token-456",
          require_approval: "never",
        },
      ],
    });
    assert.deepEqual(
      response.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    const call = response.output[1];
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.output, "hello from 2026");
    const sent = modern.requests.slice(before);
    assert.deepEqual(
      sent.map((r) => r.body.method),
      ["server/discover", "tools/list", "tools/call"],
    );
    assert.ok(sent.every((r) => r.headers.authorization === "Bearer modern-token-456"));
  });

  it("runs a route's tools on a configured server of MCP 2026-07-28 only", async () => {
    callThenAnswer("mcp__modern__echo", { text: "route over 2026" });
    const { data, response } = await client.chat.completions
      .create({ model: "modern", messages: [{ role: "user", content: "Echo it" }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "The tool said: route over 2026");
    assert.equal(response.headers.get("x-tandem-tools"), "mcp:modern/echo");
    assert.ok(!modern.requests.some((r) => r.body.method === "initialize"));
  });

  it("answers 424 with the server's refusal when the token is wrong", async () => {
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "Echo",
        tools: [
          { type: "mcp", server_label: "web", server_url: web.url, authorization: "wrong-token", require_approval: "never" },
        ],
      }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 424 && !/wrong-token/.test(err.message),
    );
    assert.equal(upstream.requests.length, 0);
  });

  it("calls a stdio server configured in tandem, named by its label, streamed", async () => {
    callThenAnswer("mcp__files__echo", { text: "from stdio" });
    const stream = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Echo over stdio",
      stream: true,
      tools: [{ type: "mcp", server_label: "files", require_approval: "never" } as unknown as OpenAI.Responses.Tool],
    });
    let completed: OpenAI.Responses.Response | undefined;
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.completed") completed = event.response;
    }
    assert.ok(types.includes("response.mcp_call.completed"));
    const call = completed?.output.find((item) => item.type === "mcp_call");
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.output, "from stdio");
    const message = completed?.output.at(-1);
    assert.ok(message?.type === "message");
    assert.deepEqual(
      message.content.map((part) => (part.type === "output_text" ? part.text : "")),
      ["The tool said: from stdio"],
    );
  });

  it("runs the OpenAI Agents SDK's hostedMcpTool through tandem, on a model that never saw MCP", async () => {
    setTracingDisabled(true);
    setOpenAIAPI("responses");
    setDefaultOpenAIClient(new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 }));
    callThenAnswer("mcp__web__echo", { text: "agents via tandem" });
    const agent = new Agent({
      name: "echoer",
      model: "openai/gpt-4o-mini",
      instructions: "Use the echo tool.",
      tools: [hostedMcpTool({ serverLabel: "web", serverUrl: web.url, headers: { Authorization: "Bearer web-token-123" } })],
    });
    const result = await run(agent, "Echo 'agents via tandem'");
    assert.equal(result.finalOutput, "The tool said: agents via tandem");
    // The upstream model was offered the MCP tool as a function and read its output.
    const offered = JSON.stringify((upstream.requests[0]?.body as { tools?: unknown }).tools);
    assert.match(offered, /mcp__web__echo/);
    assert.equal(messagesOf(upstream.requests[1]).at(-1)?.role, "tool");
  });

  it("shows the configured servers in /v1/status: connected with their tools, or their last error", async () => {
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [{ type: "mcp", server_label: "down", require_approval: "never" } as unknown as OpenAI.Responses.Tool],
      }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 424,
    );
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      mcp: {
        servers: Array<{ label: string; transport: string; connected: boolean; tools?: number; lastError?: { message: string } }>;
        requestConnections: number;
      };
    };
    const files = status.mcp.servers.find((server) => server.label === "files");
    assert.equal(files?.transport, "stdio");
    assert.equal(files?.connected, true);
    assert.ok((files?.tools ?? 0) >= 5);
    const down = status.mcp.servers.find((server) => server.label === "down");
    assert.equal(down?.connected, false);
    assert.match(down?.lastError?.message ?? "", /cannot connect to MCP server 'down'/);
    assert.ok(status.mcp.requestConnections >= 1);
  });
});
