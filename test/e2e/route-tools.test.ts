/**
 * A route's tools (`tools: ["mcp:<server>"]`): a real stdio MCP server configured in tandem, its tools
 * run by tandem for any client of the route, on every wire (the openai SDK's chat completions, the
 * Anthropic SDK, Ollama's /api/chat, the Responses API), whole and streamed. The client sees the
 * model's answer, not the calls (except the Responses API, which has items for them); a whole answer
 * names them in `x-tandem-tools`. The client's own tools still come back to the client.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { mcpCallErrorText } from "../support/mcp-call-error.js";
import { MCP_STDIO_SERVER } from "../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

type WireMessage = { role: string; content?: unknown };
const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];
const toolNames = (request: RecordedRequest | undefined): string[] =>
  (((request?.body ?? {}) as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map((t) => t.function.name);

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
      // `more`: a server a Responses request names itself (by label), beside the route's `files`.
      mcp: { servers: { files: MCP_STDIO_SERVER, more: MCP_STDIO_SERVER } },
      routes: {
        assistant: { tiers: ["openai/gpt-4o-mini"], tools: ["mcp:files"] },
        plain: { tiers: ["openai/gpt-4o-mini"] },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  // The model calls the server's echo tool, then answers with what it said.
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") return { kind: "text", text: `Echoed: ${String(last.content)}`, usage: { input: 20, output: 4 } };
    return {
      kind: "tool_calls",
      calls: [{ name: "mcp__files__echo", arguments: { text: "route tools" } }],
      usage: { input: 10, output: 3 },
    };
  });
});

describe("a route's tools, for every client", () => {
  it("chat completions, whole: the answer after the call, the call named in x-tandem-tools", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: "assistant", messages: [{ role: "user", content: "Echo it" }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Echoed: route tools");
    assert.equal(data.choices[0]?.message.tool_calls, undefined);
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.equal(data.usage?.prompt_tokens, 30);
    assert.equal(response.headers.get("x-tandem-tools"), "mcp:files/echo");
    assert.ok(toolNames(upstream.requests[0]).includes("mcp__files__echo"));
    assert.equal(messagesOf(upstream.requests[1]).at(-1)?.role, "tool");
  });

  it("chat completions, streamed: text only, no tool-call chunks", async () => {
    const stream = await openai.chat.completions.create({
      model: "assistant",
      messages: [{ role: "user", content: "Echo it" }],
      stream: true,
    });
    let text = "";
    let sawToolCall = false;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? "";
      if (choice?.delta.tool_calls) sawToolCall = true;
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    assert.equal(text, "Echoed: route tools");
    assert.equal(sawToolCall, false);
    assert.equal(finish, "stop");
  });

  it("keeps the client's own tools the client's: its call comes back, the route's are not shown", async () => {
    upstream.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Oslo" } }] }));
    const completion = await openai.chat.completions.create({
      model: "assistant",
      messages: [{ role: "user", content: "Weather?" }],
      tools: [
        {
          type: "function",
          function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
        },
      ],
    });
    assert.equal(
      completion.choices[0]?.message.tool_calls?.[0]?.type === "function" &&
        completion.choices[0].message.tool_calls[0].function.name,
      "get_weather",
    );
    assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
    const offered = toolNames(upstream.requests[0]);
    assert.ok(offered.includes("get_weather") && offered.includes("mcp__files__echo"));
  });

  it("the Anthropic Messages API, whole and streamed", async () => {
    const message = await anthropic.messages.create({
      model: "assistant",
      max_tokens: 100,
      messages: [{ role: "user", content: "Echo it" }],
    });
    assert.deepEqual(
      message.content.map((block) => block.type),
      ["text"],
    );
    assert.equal(message.content[0]?.type === "text" && message.content[0].text, "Echoed: route tools");
    assert.equal(message.stop_reason, "end_turn");
    const stream = anthropic.messages.stream({
      model: "assistant",
      max_tokens: 100,
      messages: [{ role: "user", content: "Echo it" }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.content.map((b) => (b.type === "text" ? b.text : b.type)).join(""), "Echoed: route tools");
  });

  it("Ollama's /api/chat", async () => {
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "assistant", messages: [{ role: "user", content: "Echo it" }], stream: false }),
    });
    const body = (await res.json()) as { message: { content: string; tool_calls?: unknown } };
    assert.equal(body.message.content, "Echoed: route tools");
    assert.equal(body.message.tool_calls, undefined);
    assert.equal(res.headers.get("x-tandem-tools"), "mcp:files/echo");
  });

  it("the Responses API shows the calls as items", async () => {
    const response = await openai.responses.create({ model: "assistant", input: "Echo it" });
    assert.deepEqual(
      response.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    assert.equal(response.output_text, "Echoed: route tools");
  });

  it("answers a call of a tool the route's server does not have itself, never passing it to the client", async () => {
    upstream.script((request) =>
      messagesOf(request).at(-1)?.role === "tool"
        ? { kind: "text", text: `Sorry: ${String(messagesOf(request).at(-1)?.content)}` }
        : { kind: "tool_calls", calls: [{ name: "mcp__files__rm_rf", arguments: {} }] },
    );
    const completion = await openai.chat.completions.create({
      model: "assistant",
      messages: [{ role: "user", content: "Wipe" }],
    });
    assert.equal(completion.choices[0]?.message.tool_calls, undefined);
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.match(completion.choices[0]?.message.content ?? "", /offers no tool named 'rm_rf'/);
  });

  it("refuses a Responses mcp tool labelled as one of the route's servers, with a 400 before anything is asked", async () => {
    const rival = {
      type: "mcp" as const,
      server_label: "files",
      server_url: "http://127.0.0.1:9/mcp",
      require_approval: "never" as const,
    };
    const named = { type: "mcp" as const, server_label: "files", require_approval: "never" as const };
    for (const [tools, background] of [
      [[rival], false],
      [[{ ...rival, server_label: "other" }, named], false],
      [[rival], true],
    ] as const) {
      await assert.rejects(
        openai.responses.create({
          model: "assistant",
          input: "Echo it",
          tools: tools as unknown as OpenAI.Responses.Tool[],
          ...(background && { background: true }),
        }),
        (err: unknown) =>
          err instanceof OpenAI.BadRequestError &&
          err.param === `tools[${tools.length - 1}].server_label` &&
          /the route 'assistant' already gives the model the tools of its MCP server 'files'/.test(err.message),
      );
    }
    assert.equal(upstream.requests.length, 0);
  });

  it("a route without tools offers none", async () => {
    upstream.script(() => ({ kind: "text", text: "plain" }));
    const completion = await openai.chat.completions.create({ model: "plain", messages: [{ role: "user", content: "hi" }] });
    assert.equal(completion.choices[0]?.message.content, "plain");
    assert.deepEqual(toolNames(upstream.requests[0]), []);
  });

  it("a call required without the client's tools is the route's to answer; without any, refused in each API's words", async () => {
    const ask = [{ role: "user" as const, content: "Echo it" }];
    const chat = await openai.chat.completions.create({ model: "assistant", messages: ask, tool_choice: "required" });
    assert.equal(chat.choices[0]?.message.content, "Echoed: route tools");
    assert.equal((upstream.requests[0]?.body as { tool_choice?: unknown }).tool_choice, "required");
    const message = await anthropic.messages.create({
      model: "assistant",
      max_tokens: 64,
      messages: ask,
      tool_choice: { type: "any" },
    });
    assert.deepEqual(
      message.content.map((b) => (b.type === "text" ? b.text : b.type)),
      ["Echoed: route tools"],
    );
    const response = await openai.responses.create({ model: "assistant", input: "Echo it", tool_choice: "required" });
    assert.equal(response.output_text, "Echoed: route tools");

    upstream.requests.length = 0;
    await assert.rejects(
      openai.chat.completions.create({ model: "plain", messages: ask, tool_choice: "required" }),
      (err) =>
        err instanceof OpenAI.BadRequestError &&
        err.param === "tool_choice" &&
        /only allowed when 'tools' are specified/.test(err.message),
    );
    await assert.rejects(
      anthropic.messages.create({ model: "plain", max_tokens: 64, messages: ask, tool_choice: { type: "any" } }),
      (err) =>
        err instanceof Anthropic.BadRequestError &&
        /tool_choice.any may only be specified while providing tools/.test(err.message),
    );
    await assert.rejects(
      openai.responses.create({ model: "plain", input: "Echo it", tool_choice: "required" }),
      (err) => err instanceof OpenAI.BadRequestError && err.param === "tool_choice",
    );
    assert.equal(upstream.requests.length, 0);
  });
});

describe("a route's tools: a model that calls them past the loop's limit", () => {
  const LIMIT = "the tool loop stopped at its limit of 10 rounds of tool calls, without running mcp:files/echo";
  // The model calls the tool whatever it is offered, even once the tools are taken away.
  beforeEach(() => {
    upstream.script(() => ({ kind: "tool_calls", calls: [{ name: "mcp__files__echo", arguments: { text: "again" } }] }));
  });
  const post = (path: string, body: Record<string, unknown>) =>
    fetch(`${tandem.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("chat completions: cut (length), the limit in x-tandem-warnings, only the calls run in x-tandem-tools", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: "assistant", messages: [{ role: "user", content: "Echo forever" }] })
      .withResponse();
    assert.equal(data.choices[0]?.finish_reason, "length");
    assert.equal(data.choices[0]?.message.tool_calls, undefined);
    assert.equal(response.headers.get("x-tandem-warnings"), LIMIT);
    // Ten rounds ran; the eleventh turn's call, made without the tools, did not.
    assert.equal(upstream.requests.length, 11);
    assert.equal(response.headers.get("x-tandem-tools")?.split("; ").length, 10);
  });

  it("chat completions, streamed: length, and the limit in a comment before [DONE]", async () => {
    const res = await post("/v1/chat/completions", {
      model: "assistant",
      messages: [{ role: "user", content: "Echo forever" }],
      stream: true,
    });
    const text = await res.text();
    assert.match(text, /"finish_reason":"length"/);
    assert.ok(text.endsWith(`: tandem warning: ${LIMIT}\n\ndata: [DONE]\n\n`), text.slice(-300));
  });

  it("Anthropic Messages: max_tokens, whole and streamed", async () => {
    const { data, response } = await anthropic.messages
      .create({ model: "assistant", max_tokens: 100, messages: [{ role: "user", content: "Echo forever" }] })
      .withResponse();
    assert.equal(data.stop_reason, "max_tokens");
    assert.equal(response.headers.get("x-tandem-warnings"), LIMIT);
    assert.equal(response.headers.get("x-tandem-tools")?.split("; ").length, 10);
    const stream = anthropic.messages.stream({
      model: "assistant",
      max_tokens: 100,
      messages: [{ role: "user", content: "Echo forever" }],
    });
    assert.equal((await stream.finalMessage()).stop_reason, "max_tokens");
  });

  it("Ollama /api/chat: done_reason length, the limit in tandem_warnings, whole and streamed", async () => {
    const res = await post("/api/chat", {
      model: "assistant",
      messages: [{ role: "user", content: "Echo forever" }],
      stream: false,
    });
    const body = (await res.json()) as { done_reason: string; tandem_warnings?: string[] };
    assert.equal(body.done_reason, "length");
    assert.deepEqual(body.tandem_warnings, [LIMIT]);
    assert.equal(res.headers.get("x-tandem-warnings"), LIMIT);
    const streamed = await post("/api/chat", { model: "assistant", messages: [{ role: "user", content: "Echo forever" }] });
    const last = JSON.parse((await streamed.text()).trim().split("\n").at(-1) as string) as typeof body & { done: boolean };
    assert.equal(last.done, true);
    assert.equal(last.done_reason, "length");
    assert.deepEqual(last.tandem_warnings, [LIMIT]);
  });

  it("the Responses API: completed, ending with the call not run, failed", async () => {
    const { data, response } = await openai.responses.create({ model: "assistant", input: "Echo forever" }).withResponse();
    assert.equal(data.status, "completed");
    const calls = data.output.filter((item) => item.type === "mcp_call");
    assert.equal(calls.length, 11);
    const last = calls.at(-1);
    assert.ok(last?.type === "mcp_call");
    assert.match(mcpCallErrorText(last.error), /Not run: this response reached its limit of 10 rounds of tool calls/);
    assert.equal(response.headers.get("x-tandem-tools")?.split("; ").length, 10);
    assert.equal(response.headers.get("x-tandem-warnings"), LIMIT);
  });
});

describe("a route's tools: usage and conversations", () => {
  it("streamed Anthropic answers report the turns' usage summed", async () => {
    const stream = anthropic.messages.stream({
      model: "assistant",
      max_tokens: 100,
      messages: [{ role: "user", content: "Echo it" }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.usage.input_tokens, 30);
    assert.equal(final.usage.output_tokens, 7);
    assert.equal(final.stop_reason, "end_turn");
  });

  it("lists the route's server once per conversation for a Responses client, as its own servers are", async () => {
    const listings = (response: OpenAI.Responses.Response) =>
      response.output.flatMap((item) => (item.type === "mcp_list_tools" ? [item.server_label] : []));
    const first = await openai.responses.create({ model: "assistant", input: "Echo it" });
    assert.deepEqual(listings(first), ["files"]);
    // A follow-up reads the listing in its history: no new mcp_list_tools, and the tool is still offered.
    const second = await openai.responses.create({ model: "assistant", input: "Again", previous_response_id: first.id });
    assert.deepEqual(
      second.output.map((item) => item.type),
      ["mcp_call", "message"],
    );
    assert.ok(toolNames(upstream.requests.at(-1)).includes("mcp__files__echo"));
    // With a server of the request's own, the model's turns after the first do not list the route's again.
    upstream.script((request) =>
      messagesOf(request).at(-1)?.role === "tool"
        ? { kind: "text", text: "done" }
        : { kind: "tool_calls", calls: [{ name: "mcp__more__echo", arguments: { text: "own" } }] },
    );
    const own = await openai.responses.create({
      model: "assistant",
      input: "Echo with yours",
      tools: [{ type: "mcp", server_label: "more", require_approval: "never" } as unknown as OpenAI.Responses.Tool],
    });
    assert.deepEqual(
      own.output.map((item) => (item.type === "mcp_list_tools" ? `list:${item.server_label}` : item.type)),
      ["list:more", "list:files", "mcp_call", "message"],
    );
    assert.ok(toolNames(upstream.requests.at(-1)).includes("mcp__files__echo"));
  });

  it("a conversation keeps the calls: the next turn's model reads them back", async () => {
    const conversation = await openai.conversations.create({});
    const first = await openai.responses.create({ model: "assistant", input: "Echo it", conversation: conversation.id });
    assert.deepEqual(
      first.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    const items = await openai.conversations.items.list(conversation.id);
    const types = items.data.map((item) => item.type);
    assert.ok(types.includes("mcp_call") && types.includes("mcp_list_tools"), types.join(","));
    upstream.script(() => ({ kind: "text", text: "ok" }));
    await openai.responses.create({ model: "assistant", input: "And then?", conversation: conversation.id });
    const sent = JSON.stringify(upstream.requests.at(-1)?.body);
    assert.match(sent, /route tools/);
    assert.match(sent, /mcp__files__echo/);
  });
});
