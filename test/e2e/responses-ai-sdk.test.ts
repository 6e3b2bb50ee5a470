/**
 * The Vercel AI SDK's default OpenAI model, `openai(model)` (the Responses API), pointed at a real
 * tandem over a fake chat-only OpenAI upstream: generateText, streamText, a tool with `execute` over
 * several steps, generateObject with a zod schema, and a conversation continued from the SDK's own
 * messages. The SDK stores responses by default and sends earlier answers and tool calls back as
 * `item_reference` items: tandem resolves them from what it stored, and the upstream must see them in
 * full.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, generateText, type ModelMessage, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

type WireMessage = {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
};

const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];

let upstream: FakeUpstream;
let tandem: RunningTandem;
const state = new MemoryStateStore();
/** Every body the SDK sent to tandem, to see what it really uses (item_reference, store). */
const sent: Record<string, unknown>[] = [];
let openai: ReturnType<typeof createOpenAI>;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
      routes: { auto: { tiers: ["openai/gpt-4o-mini"] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai" }, state },
  );
  openai = createOpenAI({
    baseURL: `${tandem.url}/v1`,
    apiKey: "unused",
    fetch: async (url, init) => {
      if (typeof init?.body === "string") sent.push(JSON.parse(init.body) as Record<string, unknown>);
      return fetch(url, init);
    },
  });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  sent.length = 0;
  upstream.script(() => ({ kind: "text", text: "Hello from upstream.", usage: { input: 12, output: 4 } }));
});

const weatherScript = () =>
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") {
      return { kind: "text", text: `Paris: ${String(last.content)}.`, usage: { input: 40, output: 6 } };
    }
    return {
      kind: "tool_calls",
      calls: [{ name: "get_weather", arguments: { city: "Paris" } }],
      usage: { input: 30, output: 8 },
    };
  });

const weather = tool({
  description: "Current weather for a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny, 24C in ${city}`,
});

/** The second upstream request: the user's question, the model's call and the tool's output, in order. */
function assertToolRoundTrip(): void {
  assert.equal(upstream.requests.length, 2);
  const messages = messagesOf(upstream.requests[1]);
  const user = messages.findIndex((m) => m.role === "user" && JSON.stringify(m.content).includes("Weather in Paris?"));
  const call = messages.findIndex((m) => m.role === "assistant" && m.tool_calls?.[0]?.function.name === "get_weather");
  const output = messages.findIndex((m) => m.role === "tool");
  assert.ok(user >= 0 && call > user && output > call, JSON.stringify(messages));
  assert.equal(messages[output]?.tool_call_id, messages[call]?.tool_calls?.[0]?.id);
  assert.equal(messages[output]?.content, "sunny, 24C in Paris");
}

describe("Vercel AI SDK openai(model) through tandem (Responses API)", () => {
  it("generateText answers, with the system prompt and settings passed on", async () => {
    const result = await generateText({
      model: openai("openai/gpt-4o-mini"),
      system: "Be brief.",
      prompt: "Hi there",
      temperature: 0.2,
      maxOutputTokens: 100,
    });
    assert.equal(result.text, "Hello from upstream.");
    assert.equal(result.usage.inputTokens, 12);
    assert.equal(result.usage.outputTokens, 4);
    assert.equal(result.finishReason, "stop");
    assert.ok(result.response.id.startsWith("resp_"));
    const body = upstream.requests[0]?.body as {
      messages: WireMessage[];
      temperature?: number;
      max_tokens?: number;
      max_completion_tokens?: number;
    };
    assert.deepEqual(
      body.messages.map((m) => [m.role, typeof m.content === "string" ? m.content : JSON.stringify(m.content)]),
      [
        ["system", "Be brief."],
        ["user", "Hi there"],
      ],
    );
    assert.equal(body.temperature, 0.2);
    assert.equal(body.max_tokens ?? body.max_completion_tokens, 100);
  });

  it("streamText streams the answer", async () => {
    const result = streamText({ model: openai("openai/gpt-4o-mini"), prompt: "Hi again" });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    assert.equal(text, "Hello from upstream.");
    assert.equal((await result.usage).outputTokens, 4);
    assert.equal(await result.finishReason, "stop");
    assert.equal((upstream.requests[0]?.body as { stream?: boolean }).stream, true);
  });

  it("runs a tool with execute over several steps (the call comes back as an item_reference)", async () => {
    weatherScript();
    const result = await generateText({
      model: openai("openai/gpt-4o-mini"),
      prompt: "Weather in Paris?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(3),
    });
    assert.equal(result.text, "Paris: sunny, 24C in Paris.");
    assert.equal(result.steps.length, 2);
    assertToolRoundTrip();
    // What the SDK sent tandem on its second step: the stored call by reference, and its output.
    const second = sent[1] as { input: { type?: string; id?: string; call_id?: string }[]; store?: boolean };
    assert.equal(second.store, undefined, "the SDK relies on store's default (true)");
    const reference = second.input.find((item) => item.type === "item_reference");
    assert.ok(reference?.id?.startsWith("fc_"), JSON.stringify(second.input));
    assert.ok(second.input.some((item) => item.type === "function_call_output"));
  });

  it("runs the same tool loop streamed", async () => {
    weatherScript();
    const result = streamText({
      model: openai("openai/gpt-4o-mini"),
      prompt: "Weather in Paris?",
      tools: { get_weather: weather },
      stopWhen: stepCountIs(3),
    });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    assert.equal(text, "Paris: sunny, 24C in Paris.");
    assert.equal((await result.steps).length, 2);
    assertToolRoundTrip();
  });

  it("continues a conversation from the SDK's own messages (earlier answers sent as item_reference)", async () => {
    upstream.script(() => ({ kind: "text", text: "Paris is in France.", usage: { input: 10, output: 5 } }));
    const messages: ModelMessage[] = [{ role: "user", content: "Where is Paris?" }];
    const first = await generateText({ model: openai("openai/gpt-4o-mini"), messages });
    messages.push(...first.response.messages, { role: "user", content: "And its population?" });
    upstream.script(() => ({ kind: "text", text: "About two million.", usage: { input: 20, output: 4 } }));
    const second = await generateText({ model: openai("openai/gpt-4o-mini"), messages });
    assert.equal(second.text, "About two million.");
    const input = (sent[1] as { input: { type?: string; id?: string }[] }).input;
    assert.ok(
      input.some((item) => item.type === "item_reference" && item.id?.startsWith("msg_")),
      JSON.stringify(input),
    );
    const seen = messagesOf(upstream.requests[1]).map((m) => [
      m.role,
      typeof m.content === "string" ? m.content : JSON.stringify(m.content),
    ]);
    assert.deepEqual(seen, [
      ["user", "Where is Paris?"],
      ["assistant", "Paris is in France."],
      ["user", "And its population?"],
    ]);
  });

  it("generateObject gets an object for a zod schema (json_schema)", async () => {
    upstream.script(() => ({ kind: "text", text: '{"city":"Paris","celsius":24}', usage: { input: 20, output: 9 } }));
    const result = await generateObject({
      model: openai("openai/gpt-4o-mini"),
      schema: z.object({ city: z.string(), celsius: z.number() }),
      prompt: "Forecast for Paris",
    });
    assert.deepEqual(result.object, { city: "Paris", celsius: 24 });
    const body = upstream.requests[0]?.body as {
      response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: { properties?: unknown } } };
    };
    assert.equal(body.response_format?.type, "json_schema");
    assert.deepEqual(Object.keys(body.response_format?.json_schema?.schema.properties ?? {}), ["city", "celsius"]);
    const format = (sent[0] as { text?: { format?: { type?: string; strict?: boolean } } }).text?.format;
    assert.equal(format?.type, "json_schema");
    assert.equal(body.response_format?.json_schema?.strict, format?.strict);
  });
});
