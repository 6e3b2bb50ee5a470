/**
 * An upstream that serves its models through OpenAI's Responses API alone (`responses: "only"`, as
 * OpenAI's Responses-only models are): a chat completions client, an Anthropic client and tandem's
 * tool loop reach it as Responses requests (stateless, the conversation as input items), whole and
 * streamed, with a tool round trip; a Responses client still takes the same-wire path.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { HostedToolInfo, HostedToolOutcome, McpServerRef, ToolHost } from "../../src/core/index.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { fakeLogprobs } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

type Item = { type?: string; role?: string; content?: unknown; output?: unknown; name?: string; call_id?: string };

let upstream: FakeResponsesUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
const calls: Array<Record<string, unknown>> = [];

const host: ToolHost = {
  configured: () => false,
  listTools: async (): Promise<{ tools: HostedToolInfo[] }> => ({
    tools: [{ name: "search", inputSchema: { type: "object", properties: { q: { type: "string" } } } }],
  }),
  callTool: async (_server: McpServerRef, _name: string, args: Record<string, unknown>): Promise<HostedToolOutcome> => {
    calls.push(args);
    return { output: `found ${String(args.q)}` };
  },
};

const inputOf = (request: RecordedRequest | undefined): Item[] => ((request?.body ?? {}) as { input?: Item[] }).input ?? [];

before(async () => {
  upstream = await startFakeOpenAIResponses({ models: ["gpt-5-codex"] });
  tandem = await startTandem(
    {
      providers: { codex: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP"], responses: "only", local: false } },
      // A client that does not stream gets one whole upstream answer on this route.
      routes: { whole: { tiers: ["codex/gpt-5-codex"], streamUpstream: false } },
    },
    { env: { UP: "sk-up" }, toolHost: host },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  upstream.responseBodies.length = 0;
  calls.length = 0;
  // A function call first; the answer once the last input item is its output.
  upstream.script((request) => {
    const last = inputOf(request).at(-1);
    if (last?.type === "function_call_output") return { kind: "answer", text: `Seen: ${String(last.output)}` };
    const tools = ((request.body as { tools?: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
    const tool = tools.find((name) => name === "get_weather" || name.startsWith("mcp__"));
    if (tool !== undefined)
      return { kind: "answer", calls: [{ name: tool, arguments: JSON.stringify({ q: "x", city: "Oslo" }) }] };
    return { kind: "answer", reasoning: "Thinking.", text: "Hello from codex" };
  });
});

const weather = {
  type: "function" as const,
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
};

describe("a Responses-only upstream", () => {
  it("answers a chat completions client, whole and streamed, as Responses requests", async () => {
    const whole = await openai.chat.completions.create({
      model: "codex/gpt-5-codex",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      max_tokens: 50,
    });
    assert.equal(whole.choices[0]?.message.content, "Hello from codex");
    const body = upstream.responseBodies[0] as Record<string, unknown>;
    assert.equal(upstream.requests.at(-1)?.path, "/v1/responses");
    assert.equal(body.store, false);
    assert.equal(body.model, "gpt-5-codex");
    assert.equal(body.max_output_tokens, 50);
    assert.equal(body.messages, undefined);
    assert.deepEqual(inputOf(upstream.requests.at(-1)), [
      { type: "message", role: "developer", content: [{ type: "input_text", text: "Be brief." }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }] },
    ]);
    const stream = await openai.chat.completions.create({
      model: "codex/gpt-5-codex",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from codex");
    assert.equal((upstream.responseBodies.at(-1) as { stream?: boolean }).stream, true);
  });

  it("sends a chat client's settings the Responses API has too, by their Responses names, naming none", async () => {
    const { response } = await openai.chat.completions
      .create({
        model: "codex/gpt-5-codex",
        messages: [{ role: "user", content: "Hi" }],
        prompt_cache_key: "pck-1",
        safety_identifier: "sid-1",
        service_tier: "flex",
        verbosity: "low",
      })
      .withResponse();
    const body = upstream.responseBodies.at(-1) as Record<string, unknown>;
    assert.equal(body.prompt_cache_key, "pck-1");
    assert.equal(body.safety_identifier, "sid-1");
    assert.equal(body.service_tier, "flex");
    assert.deepEqual(body.text, { verbosity: "low" });
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });

  it("gives a chat client the token logprobs it asked for, whole and streamed, from the Responses events", async () => {
    const expected = fakeLogprobs(["Hell", "o fr", "om c", "odex"], 2).map(({ token, logprob, top_logprobs }) => ({
      token,
      logprob,
      top: top_logprobs.map((alt) => [alt.token, alt.logprob]),
    }));
    const read = (content: OpenAI.ChatCompletionTokenLogprob[] | null | undefined) =>
      (content ?? []).map(({ token, logprob, top_logprobs }) => ({
        token,
        logprob,
        top: top_logprobs.map((alt) => [alt.token, alt.logprob]),
      }));
    for (const model of ["codex/gpt-5-codex", "whole"]) {
      const whole = await openai.chat.completions.create({
        model,
        messages: [{ role: "user", content: "Hi" }],
        logprobs: true,
        top_logprobs: 2,
      });
      const body = upstream.responseBodies.at(-1) as Record<string, unknown>;
      assert.deepEqual(body.include, ["reasoning.encrypted_content", "message.output_text.logprobs"]);
      assert.equal(body.top_logprobs, 2);
      assert.deepEqual(read(whole.choices[0]?.logprobs?.content), expected, model);
    }
    const stream = await openai.chat.completions.create({
      model: "codex/gpt-5-codex",
      messages: [{ role: "user", content: "Hi" }],
      logprobs: true,
      top_logprobs: 2,
      stream: true,
    });
    const streamed: OpenAI.ChatCompletionTokenLogprob[] = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    assert.deepEqual(read(streamed), expected);
  });

  it("carries a tool round trip: the call comes back as chat tool_calls, its result goes as function_call_output", async () => {
    const first = await openai.chat.completions.create({
      model: "codex/gpt-5-codex",
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      tools: [weather],
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === "function");
    assert.equal(call.function.name, "get_weather");
    assert.equal(first.choices[0]?.finish_reason, "tool_calls");
    const sentTools = (upstream.responseBodies[0] as { tools: unknown[] }).tools;
    assert.deepEqual(sentTools, [
      { type: "function", name: "get_weather", parameters: weather.function.parameters, strict: false },
    ]);
    const second = await openai.chat.completions.create({
      model: "codex/gpt-5-codex",
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: "sunny" },
      ],
      tools: [weather],
    });
    assert.equal(second.choices[0]?.message.content, "Seen: sunny");
    const items = inputOf(upstream.requests.at(-1));
    assert.deepEqual(
      items.map((item) => item.type),
      ["message", "function_call", "function_call_output"],
    );
    assert.equal(items[1]?.call_id, call.id);
    assert.equal(items[2]?.call_id, call.id);
  });

  it("asks for a whole answer where the route says so", async () => {
    const completion = await openai.chat.completions.create({ model: "whole", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(completion.choices[0]?.message.content, "Hello from codex");
    assert.equal((upstream.responseBodies.at(-1) as { stream?: boolean }).stream, false);
  });

  it("answers an Anthropic client", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: "codex/gpt-5-codex",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(message.content.find((block) => block.type === "text")?.text, "Hello from codex");
  });

  it("runs tandem's tool loop on it", async () => {
    const response = await openai.responses.create({
      model: "codex/gpt-5-codex",
      input: "Search",
      tools: [{ type: "mcp", server_label: "docs", server_url: "http://127.0.0.1:9/mcp", require_approval: "never" }],
    });
    assert.deepEqual(
      response.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_call", "message"],
    );
    assert.equal(response.output_text, "Seen: found x");
    assert.deepEqual(calls, [{ q: "x", city: "Oslo" }]);
    // Every turn went as a Responses request with the tool as a function, never as an mcp tool.
    for (const body of upstream.responseBodies) assert.doesNotMatch(JSON.stringify(body), /"type":"mcp"/);
  });

  it("still gives a Responses client the same-wire path", async () => {
    const response = await openai.responses.create({ model: "codex/gpt-5-codex", input: "Hi", reasoning: { effort: "low" } });
    assert.equal(response.output_text, "Hello from codex");
    assert.deepEqual((upstream.responseBodies.at(-1) as { reasoning?: unknown }).reasoning, { effort: "low" });
  });
});
