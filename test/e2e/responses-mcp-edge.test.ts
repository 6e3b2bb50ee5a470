/**
 * The Responses API's `mcp` tools at their edges: a model that misbehaves (calls forever, calls tools
 * that do not exist, writes arguments that are not JSON), servers that list odd tools, clients that
 * go stateless, chain to another wire, or leave mid-call. A scripted ToolHost, fake upstreams, the
 * official openai SDK.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import type { HostedToolInfo, HostedToolOutcome, McpServerRef, ToolHost } from "../../src/core/index.js";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { mcpCallError, mcpCallErrorText } from "../support/mcp-call-error.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const SEARCH: HostedToolInfo = {
  name: "search",
  description: "Search the docs",
  inputSchema: { type: "object", properties: { q: { type: "string" } } },
};

class ScriptedHost implements ToolHost {
  tools: HostedToolInfo[] = [SEARCH];
  readonly calls: Array<{ name: string; args: Record<string, unknown> }> = [];
  /** How a call answers; default: the search's output. */
  onCall: (name: string, args: Record<string, unknown>, signal: AbortSignal) => Promise<HostedToolOutcome> = async (
    name,
    args,
  ) => ({ output: `${name} found 3 pages for '${String(args.q)}'` });
  configured(): boolean {
    return false;
  }
  async listTools(server: McpServerRef): Promise<{ tools: HostedToolInfo[] } | { error: string }> {
    if (server.url?.includes("broken")) return { error: "HTTP 500: the server is down" };
    return { tools: this.tools };
  }
  async callTool(_server: McpServerRef, name: string, args: Record<string, unknown>, signal: AbortSignal) {
    this.calls.push({ name, args });
    return this.onCall(name, args, signal);
  }
}

type WireMessage = { role: string; content?: unknown; tool_calls?: Array<{ function: { name: string; arguments: string } }> };
const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];
const lastIsTool = (request: RecordedRequest) => messagesOf(request).at(-1)?.role === "tool";

const host = new ScriptedHost();
let openai: FakeOpenAIUpstream;
let anthropic: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

const docs = {
  type: "mcp" as const,
  server_label: "docs",
  server_url: "http://127.0.0.1:9/mcp",
  require_approval: "never" as const,
};

before(async () => {
  [openai, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, toolHost: host },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

beforeEach(() => {
  host.tools = [SEARCH];
  host.calls.length = 0;
  host.onCall = async (name, args) => ({ output: `${name} found 3 pages for '${String(args.q)}'` });
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  openai.script((request) =>
    lastIsTool(request)
      ? { kind: "text", text: "Three pages.", usage: { input: 40, output: 8 } }
      : { kind: "tool_calls", calls: [{ name: "mcp__docs__search", arguments: { q: "x" } }], usage: { input: 30, output: 5 } },
  );
});

describe("mcp tools: a model that misbehaves", () => {
  it("ends a model that calls the tool forever, within max_tool_calls and the loop's turns", { timeout: 10_000 }, async () => {
    openai.script(() => ({ kind: "tool_calls", calls: [{ name: "mcp__docs__search", arguments: { q: "again" } }] }));
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Search until you drop",
      tools: [docs],
      // On the Response in this SDK, not yet on its create params.
      max_tool_calls: 2,
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    assert.equal(host.calls.length, 2);
    assert.ok(openai.requests.length <= 4, `${openai.requests.length} model turns`);
    assert.equal(response.status, "completed");
    const calls = response.output.filter((item) => item.type === "mcp_call");
    assert.ok(calls.length >= 3);
    assert.match(calls.at(-1)?.type === "mcp_call" ? mcpCallErrorText(calls.at(-1)?.error) : "", /Not run/);
    // Without max_tool_calls, streamed: the loop's turns bound it (10 rounds, then one without the tools).
    host.calls.length = 0;
    openai.requests.length = 0;
    const stream = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Search until you drop",
      tools: [docs],
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(events.at(-1)?.type, "response.completed");
    assert.equal(host.calls.length, 10);
    assert.equal(openai.requests.length, 11);
    // The last turn was not offered the hosted tools.
    assert.equal((openai.requests.at(-1)?.body as { tools?: unknown }).tools, undefined);
  });

  it("treats a call of a tool the server does not have as a failed call, not the client's", async () => {
    openai.script((request) =>
      lastIsTool(request)
        ? { kind: "text", text: "No such tool." }
        : { kind: "tool_calls", calls: [{ name: "mcp__docs__delete_everything", arguments: {} }] },
    );
    const response = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Delete", tools: [docs] });
    assert.deepEqual(
      response.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    const call = response.output[1];
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.name, "delete_everything");
    assert.match(mcpCallErrorText(call.error), /no tool/i);
    assert.equal(mcpCallError(call.error).code, -32602);
    assert.equal(host.calls.length, 0);
    assert.equal(response.output_text, "No such tool.");
  });

  it("answers arguments that are not JSON with a failed call, and such a call in the history still converts for Anthropic", async () => {
    // A target whose calls are not JSON fails tandem's quality check before the loop sees them: here
    // the loop is reached through approval of a request whose arguments the client wrote.
    const tool = { ...docs, require_approval: "always" as const };
    const history: OpenAI.Responses.ResponseInputItem[] = [
      { role: "user", content: "Search" },
      {
        type: "mcp_list_tools",
        id: "mcpl_1",
        server_label: "docs",
        tools: [{ name: "search", input_schema: SEARCH.inputSchema }],
      },
      { type: "mcp_approval_request", id: "mcpr_1", server_label: "docs", name: "search", arguments: '{"q": "unterminated' },
      { type: "mcp_approval_response", approval_request_id: "mcpr_1", approve: true },
    ];
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: history, tools: [tool], store: false });
    const call = first.output.find((item) => item.type === "mcp_call");
    assert.ok(call?.type === "mcp_call");
    assert.match(mcpCallErrorText(call.error), /not valid JSON/);
    assert.equal(mcpCallError(call.error).code, -32602);
    assert.equal(host.calls.length, 0);
    anthropic.script(() => ({ kind: "text", text: "ok" }));
    const second = await client.responses.create({
      model: "anthropic/claude-haiku-4-5",
      input: [...history, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { role: "user", content: "Go on" }],
      tools: [tool],
      store: false,
    });
    assert.equal(second.status, "completed");
    assertAnthropicPairs(anthropic.requests.at(-1));
  });
});

/** Every tool_use of an Anthropic request is answered by a tool_result in the next (user) message. */
function assertAnthropicPairs(request: RecordedRequest | undefined): void {
  const messages = ((request?.body ?? {}) as { messages: Array<{ role: string; content: unknown }> }).messages;
  assert.ok(messages.length > 0);
  messages.forEach((message, i) => {
    const blocks = Array.isArray(message.content) ? (message.content as Array<Record<string, unknown>>) : [];
    for (const block of blocks) {
      if (block.type !== "tool_use") continue;
      assert.equal(typeof block.input, "object", "tool_use input is an object");
      const next = messages[i + 1];
      const results = Array.isArray(next?.content) ? (next.content as Array<Record<string, unknown>>) : [];
      assert.ok(
        results.some((r) => r.type === "tool_result" && r.tool_use_id === block.id),
        `tool_use ${String(block.id)} is answered`,
      );
    }
  });
  assert.equal(messages[0]?.role, "user");
}

describe("mcp tools: servers that list odd tools", () => {
  it("offers a tool whose input schema is missing or not an object schema as a function of an object", async () => {
    host.tools = [
      { name: "no_schema", inputSchema: undefined as unknown as Record<string, unknown> },
      { name: "string_schema", inputSchema: { type: "string" } },
      { name: "bare", inputSchema: {} },
    ];
    openai.script(() => ({ kind: "text", text: "ok" }));
    const response = await client.responses.create({ model: "openai/gpt-4o-mini", input: "hi", tools: [docs] });
    assert.equal(response.status, "completed");
    const tools = (openai.requests[0]?.body as { tools: Array<{ function: { parameters?: { type?: string } } }> }).tools;
    assert.equal(tools.length, 3);
    for (const tool of tools) assert.equal(tool.function.parameters?.type, "object");
    // The listing has every tool's input_schema (required by the spec and the SDK's McpListTools):
    // the server's own, or for one it did not give, the object schema the model was offered.
    const listed = response.output.find((item) => item.type === "mcp_list_tools");
    assert.deepEqual(listed?.type === "mcp_list_tools" && listed.tools.map((tool) => [tool.name, tool.input_schema]), [
      ["no_schema", { type: "object", properties: {} }],
      ["string_schema", { type: "string" }],
      ["bare", {}],
    ]);
  });

  it("offers every tool under its own function name, even names that differ only in characters functions may not hold", async () => {
    host.tools = [
      { name: "get.page", inputSchema: { type: "object", properties: {} } },
      { name: "get_page", inputSchema: { type: "object", properties: {} } },
      { name: "Ünïcödé tool", inputSchema: { type: "object", properties: {} } },
      { name: "x".repeat(200), inputSchema: { type: "object", properties: {} } },
    ];
    openai.script(() => ({ kind: "text", text: "ok" }));
    await client.responses.create({ model: "openai/gpt-4o-mini", input: "hi", tools: [docs] });
    const offered = ((openai.requests[0]?.body as { tools: Array<{ function: { name: string } }> }).tools ?? []).map(
      (tool) => tool.function.name,
    );
    assert.equal(offered.length, 4);
    assert.equal(new Set(offered).size, 4);
    for (const name of offered) assert.match(name, /^[a-zA-Z0-9_-]{1,64}$/);
  });

  it("runs the tool the model called when two names collide", async () => {
    host.tools = [
      { name: "get.page", inputSchema: { type: "object", properties: {} } },
      { name: "get_page", inputSchema: { type: "object", properties: {} } },
    ];
    let offered: string[] = [];
    openai.script((request) => {
      offered = ((request.body as { tools: Array<{ function: { name: string } }> }).tools ?? []).map((t) => t.function.name);
      return lastIsTool(request)
        ? { kind: "text", text: "done" }
        : { kind: "tool_calls", calls: [{ name: offered[0] ?? "", arguments: {} }] };
    });
    const response = await client.responses.create({ model: "openai/gpt-4o-mini", input: "hi", tools: [docs] });
    const call = response.output.find((item) => item.type === "mcp_call");
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.name, "get.page");
    assert.deepEqual(
      host.calls.map((c) => c.name),
      ["get.page"],
    );
  });
});

describe("mcp tools: a target that breaks mid-answer", () => {
  it("answers a client that does not stream afresh on the next target, keeping the turns before", async () => {
    const pair = await startTandem(
      {
        providers: {
          openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
          anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        },
        routes: { pair: { tiers: ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"] } },
      },
      { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, toolHost: host },
    );
    try {
      openai.script((request) =>
        lastIsTool(request)
          ? { kind: "broken_stream", chunks: ["Broken ", "off"] }
          : { kind: "tool_calls", text: "Let me look. ", calls: [{ name: "mcp__docs__search", arguments: { q: "x" } }] },
      );
      anthropic.script(() => ({ kind: "text", text: "Three pages." }));
      const paired = new OpenAI({ baseURL: `${pair.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const response = await paired.responses.create({ model: "pair", input: "Search", tools: [docs] });
      assert.equal(response.status, "completed");
      assert.deepEqual(
        response.output.map((item) => item.type),
        ["mcp_list_tools", "message", "mcp_call", "message"],
      );
      const texts = response.output.flatMap((item) =>
        item.type === "message" ? item.content.map((part) => (part.type === "output_text" ? part.text : "")) : [],
      );
      assert.deepEqual(texts, ["Let me look. ", "Three pages."]);
      // The next target answered the turn afresh, with the call and its output.
      assert.match(JSON.stringify(anthropic.requests.at(-1)?.body), /found 3 pages/);

      // The first turn broken off: the tools listed before it are still the answer's.
      openai.script((request) =>
        lastIsTool(request) ? { kind: "text", text: "Three pages." } : { kind: "broken_stream", chunks: ["Broken ", "off"] },
      );
      anthropic.script(() => ({ kind: "tool_calls", calls: [{ name: "mcp__docs__search", arguments: { q: "x" } }] }));
      const again = await paired.responses.create({ model: "pair", input: "Search", tools: [docs] });
      assert.deepEqual(
        again.output.map((item) => item.type),
        ["mcp_list_tools", "mcp_call", "message"],
      );
      assert.equal(again.output_text, "Three pages.");
    } finally {
      await pair.close();
    }
  });
});

describe("mcp tools: clients", () => {
  it("chains a response with mcp calls to Anthropic: each tool_use is answered by its tool_result", async () => {
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Search", tools: [docs] });
    assert.deepEqual(
      first.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    anthropic.script((request) => {
      const last = (request.body as { messages: Array<{ content: unknown }> }).messages.at(-1);
      const isResult =
        Array.isArray(last?.content) && (last.content as Array<{ type: string }>).some((b) => b.type === "tool_result");
      return isResult
        ? { kind: "text", text: "Two searches done." }
        : { kind: "tool_calls", calls: [{ name: "mcp__docs__search", arguments: { q: "y" } }] };
    });
    const second = await client.responses.create({
      model: "anthropic/claude-haiku-4-5",
      previous_response_id: first.id,
      input: "Search again",
      tools: [docs],
    });
    assert.equal(second.output_text, "Two searches done.");
    // Listed once in the conversation, not again.
    assert.equal(second.output.filter((item) => item.type === "mcp_list_tools").length, 0);
    for (const request of anthropic.requests) assertAnthropicPairs(request);
    assert.match(JSON.stringify(anthropic.requests.at(-1)?.body), /found 3 pages for 'x'/);
  });

  it("approves a call statelessly (store: false), the approval request sent back with its response", async () => {
    const tool = { ...docs, require_approval: "always" as const };
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Search", tools: [tool], store: false });
    assert.deepEqual(
      first.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_approval_request"],
    );
    const request = first.output[1];
    assert.ok(request?.type === "mcp_approval_request");
    const second = await client.responses.create({
      model: "openai/gpt-4o-mini",
      store: false,
      tools: [tool],
      input: [
        { role: "user", content: "Search" },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: "mcp_approval_response", approval_request_id: request.id, approve: true },
      ],
    });
    assert.deepEqual(
      second.output.map((item) => item.type),
      ["mcp_call", "message"],
    );
    assert.equal(host.calls.length, 1);
    const call = second.output[0];
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.approval_request_id, request.id);
    assert.equal(second.output_text, "Three pages.");
  });

  it("gives the same items and usage whole and streamed; every item added is done; retrieval and input_items agree", async () => {
    const whole = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Search", tools: [docs] });
    const stream = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Search", tools: [docs], stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const added = events.flatMap((e) => (e.type === "response.output_item.added" ? [e.item.id] : []));
    const done = events.flatMap((e) => (e.type === "response.output_item.done" ? [e.item.id] : []));
    assert.deepEqual(done, added);
    const completed = events.at(-1);
    assert.ok(completed?.type === "response.completed");
    const streamed = completed.response;
    assert.deepEqual(
      streamed.output.map((item) => item.type),
      whole.output.map((item) => item.type),
    );
    assert.deepEqual(streamed.usage, whole.usage);
    // Each item's last `done` is the item as the completed response has it.
    const doneItems = events.flatMap((e) => (e.type === "response.output_item.done" ? [e.item] : []));
    assert.deepEqual(doneItems, streamed.output);
    for (const response of [whole, streamed]) {
      const stored = await client.responses.retrieve(response.id);
      assert.deepEqual(stored.output, response.output);
    }
    const items = await client.responses.inputItems.list(whole.id);
    assert.deepEqual(
      items.data.map((item) => item.type),
      ["message"],
    );
  });

  it("cancels a long tool call when the streaming client leaves, without an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    let aborted: (() => void) | undefined;
    const abortedOnce = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    let started: (() => void) | undefined;
    const startedOnce = new Promise<void>((resolve) => {
      started = resolve;
    });
    host.onCall = (_name, _args, signal) =>
      new Promise((_, reject) => {
        started?.();
        signal.addEventListener("abort", () => {
          aborted?.();
          reject(signal.reason);
        });
      });
    try {
      const controller = new AbortController();
      const stream = await client.responses.create(
        { model: "openai/gpt-4o-mini", input: "Search", tools: [docs], stream: true },
        { signal: controller.signal },
      );
      const reading = (async () => {
        for await (const event of stream) if (event.type === "response.mcp_call.in_progress") controller.abort();
      })();
      await startedOnce;
      // The SDK ends the iteration quietly on its own abort, or throws: either way it is over.
      await reading.catch(() => {});
      await Promise.race([
        abortedOnce,
        new Promise((_, reject) => setTimeout(() => reject(new Error("the call was not cancelled")), 3000)),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(unhandled, []);
      // Only the first turn was asked for: nothing went on after the client left.
      assert.equal(openai.requests.length, 1);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("cancels a long tool call when a client of a whole (not streamed) response leaves, and asks the model nothing more", async () => {
    let aborted: (() => void) | undefined;
    const abortedOnce = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    let started: (() => void) | undefined;
    const startedOnce = new Promise<void>((resolve) => {
      started = resolve;
    });
    host.onCall = (_name, _args, signal) =>
      new Promise((resolve, reject) => {
        started?.();
        // A server that would answer later: the call must be ended by the client's leaving, not by this.
        const timer = setTimeout(() => resolve({ output: "found late" }), 1500);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted?.();
          reject(signal.reason);
        });
      });
    const controller = new AbortController();
    const answering = client.responses.create(
      { model: "openai/gpt-4o-mini", input: "Search", tools: [docs] },
      { signal: controller.signal },
    );
    await startedOnce;
    controller.abort();
    await answering.catch(() => {});
    await Promise.race([
      abortedOnce,
      new Promise((_, reject) => setTimeout(() => reject(new Error("the call was not cancelled")), 1000)),
    ]);
    // Past the moment the call would have answered: no next turn was asked for.
    await new Promise((resolve) => setTimeout(resolve, 1700));
    assert.equal(openai.requests.length, 1);
  });

  it("answers a server whose tools cannot be listed with OpenAI's error shape and status 424", async () => {
    const res = await fetch(`${tandem.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [{ type: "mcp", server_label: "bad", server_url: "http://127.0.0.1:9/broken", authorization: "tok-abc" }],
      }),
    });
    assert.equal(res.status, 424);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(typeof body.error.message, "string");
    assert.doesNotMatch(JSON.stringify(body), /tok-abc/);
  });
});
