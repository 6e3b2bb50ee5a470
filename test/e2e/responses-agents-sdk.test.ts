/**
 * The OpenAI Agents SDK (`@openai/agents`) with its default model, OpenAIResponsesModel, pointed at a
 * real tandem over a fake chat-only OpenAI upstream: an agent with a function tool runs to
 * completion (the model calls the tool, the SDK runs it and sends the output back, the model answers
 * from it), whole and streamed; and an agent with an output type (a zod schema sent as a json_schema
 * text format). Tracing is off so that nothing leaves 127.0.0.1.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  Agent,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
  setTracingExportApiKey,
  tool,
} from "@openai/agents";
import OpenAI from "openai";
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
const calls: { city: string }[] = [];

const weather = tool({
  name: "get_weather",
  description: "Current weather for a city",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    calls.push({ city });
    return `sunny, 24C in ${city}`;
  },
});

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
      routes: { auto: { tiers: ["openai/gpt-4o-mini"] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai" }, state },
  );
  // Nothing may leave the machine: no traces to OpenAI, and the client points at tandem only.
  setTracingDisabled(true);
  setTracingExportApiKey("");
  setDefaultOpenAIClient(new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 }));
  setOpenAIAPI("responses");
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  calls.length = 0;
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") {
      return { kind: "text", text: `The weather report says: ${String(last.content)}.`, usage: { input: 40, output: 9 } };
    }
    return {
      kind: "tool_calls",
      calls: [{ name: "get_weather", arguments: { city: "Paris" } }],
      usage: { input: 30, output: 8 },
    };
  });
});

/** What both requests the upstream received must show: the tool, its call, and its output. */
function assertToolRoundTrip(): void {
  const chats = upstream.requests.filter((r) => r.path.startsWith("/v1/chat/completions"));
  assert.equal(chats.length, 2, "one model call for the tool call, one for the answer");
  const [first, second] = chats;
  const firstBody = first?.body as { tools?: { function: { name: string; parameters: unknown } }[] };
  assert.equal(firstBody.tools?.[0]?.function.name, "get_weather");
  assert.deepEqual((firstBody.tools?.[0]?.function.parameters as { properties?: unknown }).properties, {
    city: { type: "string" },
  });
  const firstMessages = messagesOf(first);
  assert.equal(firstMessages[0]?.role, "system");
  assert.equal(firstMessages[0]?.content, "You answer weather questions with the tool.");
  assert.equal(firstMessages.at(-1)?.role, "user");

  const messages = messagesOf(second);
  const call = messages.find((m) => m.role === "assistant" && m.tool_calls);
  assert.ok(call, "the second request carries the model's tool call");
  assert.equal(call.tool_calls?.[0]?.function.name, "get_weather");
  assert.deepEqual(JSON.parse(call.tool_calls?.[0]?.function.arguments ?? "{}"), { city: "Paris" });
  const output = messages.at(-1);
  assert.equal(output?.role, "tool");
  assert.equal(output?.tool_call_id, call.tool_calls?.[0]?.id);
  assert.equal(output?.content, "sunny, 24C in Paris");
  assert.ok(
    messages.some((m) => m.role === "user" && JSON.stringify(m.content).includes("Weather in Paris?")),
    "the user's question is still there",
  );
  assert.deepEqual(calls, [{ city: "Paris" }]);
}

describe("OpenAI Agents SDK through tandem (Responses API)", () => {
  const agent = new Agent({
    name: "Weather",
    instructions: "You answer weather questions with the tool.",
    model: "openai/gpt-4o-mini",
    tools: [weather],
  });

  it("runs an agent with a function tool to completion", async () => {
    const result = await run(agent, "Weather in Paris?");
    assert.equal(result.finalOutput, "The weather report says: sunny, 24C in Paris.");
    assertToolRoundTrip();
    // Both model calls were stored responses: the last one can be read back from tandem.
    const lastId = result.lastResponseId;
    assert.ok(lastId?.startsWith("resp_"), String(lastId));
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stored = await client.responses.retrieve(lastId as string);
    assert.equal(stored.output_text, "The weather report says: sunny, 24C in Paris.");
  });

  it("runs it streamed", async () => {
    const result = await run(agent, "Weather in Paris?", { stream: true });
    let text = "";
    for await (const event of result.toTextStream()) text += event;
    await result.completed;
    assert.equal(result.finalOutput, "The weather report says: sunny, 24C in Paris.");
    assert.equal(text, "The weather report says: sunny, 24C in Paris.");
    assertToolRoundTrip();
    for (const request of upstream.requests) assert.equal((request.body as { stream?: boolean }).stream, true);
  });

  it("continues across runs with previousResponseId (the history stays in tandem)", async () => {
    const first = await run(agent, "Weather in Paris?");
    upstream.requests.length = 0;
    upstream.script(() => ({ kind: "text", text: "You asked about Paris.", usage: { input: 50, output: 5 } }));
    const second = await run(agent, "Which city did I ask about?", { previousResponseId: first.lastResponseId });
    assert.equal(second.finalOutput, "You asked about Paris.");
    const messages = messagesOf(upstream.requests[0]);
    const seen = JSON.stringify(messages);
    for (const earlier of ["Weather in Paris?", "get_weather", "sunny, 24C in Paris", "The weather report says"]) {
      assert.ok(seen.includes(earlier), `the continued run shows the model '${earlier}'`);
    }
  });

  it("gives an agent with an output type its structured output (json_schema)", async () => {
    const Forecast = z.object({ city: z.string(), celsius: z.number() });
    const structured = new Agent({
      name: "Forecaster",
      instructions: "Answer as JSON.",
      model: "openai/gpt-4o-mini",
      outputType: Forecast,
    });
    upstream.script(() => ({ kind: "text", text: '{"city":"Paris","celsius":24}', usage: { input: 20, output: 9 } }));
    const result = await run(structured, "Forecast for Paris");
    assert.deepEqual(result.finalOutput, { city: "Paris", celsius: 24 });
    const body = upstream.requests[0]?.body as {
      response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: { properties?: unknown } } };
    };
    assert.equal(body.response_format?.type, "json_schema");
    assert.equal(body.response_format?.json_schema?.name, "output");
    assert.equal(body.response_format?.json_schema?.strict, true);
    assert.deepEqual(Object.keys(body.response_format?.json_schema?.schema.properties ?? {}), ["city", "celsius"]);
  });
});
