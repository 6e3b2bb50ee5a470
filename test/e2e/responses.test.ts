/**
 * POST /v1/responses through a real tandem server with the official openai SDK, over fake OpenAI
 * (chat-only), Anthropic and Ollama upstreams: answers whole and streamed, a function-tool round
 * trip via previous_response_id, a hand-off of that conversation to another provider, a stored
 * conversation continued, asserting on what each upstream received. Also: unknown URLs get OpenAI's
 * `unknown_url`, never `model_not_found`.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeScript, FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const KINDS = ["openai", "anthropic", "ollama"] as const;
type Kind = (typeof KINDS)[number];
const MODEL: Record<Kind, string> = { openai: "gpt-4o-mini", anthropic: "claude-haiku-4-5", ollama: "llama3.2:latest" };
const target = (kind: Kind) => `${kind}/${MODEL[kind]}`;

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

type WireMessage = { role: string; content: unknown; tool_calls?: unknown[] };

/** The upstream's messages, whatever its wire format (Anthropic keeps the system prompt apart). */
function received(request: RecordedRequest | undefined): { system: string; messages: WireMessage[] } {
  const body = (request?.body ?? {}) as { system?: unknown; messages?: WireMessage[] };
  const messages = body.messages ?? [];
  if (body.system !== undefined) {
    const system =
      typeof body.system === "string" ? body.system : (body.system as { text: string }[]).map((b) => b.text).join("");
    return { system, messages };
  }
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => textOf(m.content))
    .join("\n");
  return { system, messages: messages.filter((m) => m.role !== "system") };
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b: { type?: string; text?: string; content?: unknown }) =>
      b.type === "tool_result" ? textOf(b.content) : typeof b.text === "string" ? b.text : "",
    )
    .join("");
}

/** Everything the upstream was shown, flattened to text: each earlier turn, tool call and tool result must be in it. */
function transcript(request: RecordedRequest | undefined): string {
  return JSON.stringify(request?.body ?? {});
}

function endsWithToolResult(request: RecordedRequest): boolean {
  const last = received(request).messages.at(-1);
  if (!last) return false;
  if (last.role === "tool") return true;
  return Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === "tool_result");
}

const toolScript: FakeScript = (request) =>
  endsWithToolResult(request)
    ? { kind: "text", text: "It is sunny in Paris.", usage: { input: 30, output: 6 } }
    : { kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }], usage: { input: 20, output: 9 } };

const fakes = {} as Record<Kind, FakeUpstream>;
const state = new MemoryStateStore();
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [fakes.openai, fakes.anthropic, fakes.ollama] = await Promise.all([
    startFakeOpenAI({ models: [MODEL.openai] }),
    startFakeAnthropic({ models: [MODEL.anthropic] }),
    startFakeOllama({ models: [MODEL.ollama] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        // A cloud provider as far as privacy goes, though the fake listens on loopback.
        openai: { kind: "openai", baseUrl: fakes.openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: fakes.anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        ollama: { kind: "ollama", baseUrl: fakes.ollama.url },
      },
      routes: {
        auto: { tiers: [target("openai")] },
        fallback: { tiers: [target("openai"), target("anthropic")], retry: { attempts: 1 } },
        // Cloud first, local (the Ollama fake on loopback) second: private requests go local only.
        mixed: { tiers: [target("openai"), target("ollama")] },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, state },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

beforeEach(() => {
  for (const fake of Object.values(fakes)) {
    fake.requests.length = 0;
    fake.script(() => ({ kind: "text", text: "Hello from upstream.", usage: { input: 12, output: 4 } }));
  }
});

for (const kind of KINDS) {
  describe(`responses over ${kind}`, () => {
    it("answers a string input with instructions, whole and streamed", async () => {
      const whole = await client.responses.create({ model: target(kind), instructions: "Be brief.", input: "Hi there" });
      assert.equal(whole.status, "completed");
      assert.equal(whole.model, target(kind));
      assert.equal(whole.output_text, "Hello from upstream.");
      assert.equal(whole.usage?.input_tokens, 12);
      assert.equal(whole.usage?.output_tokens, 4);
      const sent = received(fakes[kind].requests.at(-1));
      assert.equal(sent.system, "Be brief.");
      assert.deepEqual(
        sent.messages.map((m) => [m.role, textOf(m.content)]),
        [["user", "Hi there"]],
      );

      const stream = client.responses.stream({ model: target(kind), input: "Hi again" });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const final = await stream.finalResponse();
      assert.equal(final.output_text, "Hello from upstream.");
      assert.equal(events[0]?.type, "response.created");
      assert.equal(events.at(-1)?.type, "response.completed");
      for (const [i, event] of events.entries()) assert.equal(event.sequence_number, i);
      const text = events
        .filter((e) => e.type === "response.output_text.delta")
        .map((e) => (e.type === "response.output_text.delta" ? e.delta : ""))
        .join("");
      assert.equal(text, "Hello from upstream.");
      assert.equal(final.usage?.output_tokens, 4);
    });

    it("runs a function-tool round trip via previous_response_id", async () => {
      fakes[kind].script(toolScript);
      const first = await client.responses.create({
        model: target(kind),
        instructions: "You are a weather bot.",
        input: "Weather in Paris?",
        tools: [weatherTool],
      });
      const call = first.output.find((item) => item.type === "function_call");
      assert.ok(call?.type === "function_call", JSON.stringify(first.output));
      assert.equal(call.name, "get_weather");
      assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });
      const upstreamTools = JSON.stringify((fakes[kind].requests.at(-1)?.body as { tools?: unknown }).tools);
      assert.match(upstreamTools, /get_weather/);

      const second = await client.responses.create({
        model: target(kind),
        previous_response_id: first.id,
        input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny, 24C" }],
        tools: [weatherTool],
      });
      assert.equal(second.output_text, "It is sunny in Paris.");
      const sent = received(fakes[kind].requests.at(-1));
      // Instructions are the request's own: the follow-up had none.
      assert.equal(sent.system, "");
      const seen = transcript(fakes[kind].requests.at(-1));
      assert.match(seen, /Weather in Paris\?/);
      assert.match(seen, /get_weather/);
      assert.match(seen, /sunny, 24C/);
      assert.ok(endsWithToolResult(fakes[kind].requests.at(-1) as RecordedRequest));
    });
  });
}

describe("a stored conversation moves between providers", () => {
  it("continues on another provider with every earlier turn, tool call and result", async () => {
    fakes.openai.script(toolScript);
    const first = await client.responses.create({ model: target("openai"), input: "Weather in Paris?", tools: [weatherTool] });
    const call = first.output.find((item) => item.type === "function_call");
    assert.ok(call?.type === "function_call");
    const second = await client.responses.create({
      model: target("openai"),
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny, 24C" }],
      tools: [weatherTool],
    });
    assert.equal(second.output_text, "It is sunny in Paris.");

    for (const next of ["anthropic", "ollama"] as const) {
      const third = await client.responses.create({
        model: target(next),
        previous_response_id: second.id,
        input: "And tomorrow?",
        tools: [weatherTool],
      });
      assert.equal(third.model, target(next));
      const request = fakes[next].requests.at(-1);
      const seen = transcript(request);
      for (const expected of ["Weather in Paris?", "get_weather", "sunny, 24C", "It is sunny in Paris.", "And tomorrow?"]) {
        assert.ok(seen.includes(expected), `${next} did not receive ${expected}: ${seen}`);
      }
      assert.equal(received(request).messages.at(-1)?.role, "user");
    }
  });

  it("continues a conversation kept in the state store and appends the new turn", async () => {
    const conversation = await state.createConversation({ topic: "names" }, [
      {
        item: { id: "msg_seed_user", type: "message", role: "user", content: [{ type: "input_text", text: "My name is Ada." }] },
      },
      {
        item: {
          id: "msg_seed_assistant",
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Nice to meet you, Ada.", annotations: [] }],
        },
      },
    ]);
    const res = await client.responses.create({ model: target("anthropic"), conversation: conversation.id, input: "My name?" });
    assert.equal(res.output_text, "Hello from upstream.");
    const sent = received(fakes.anthropic.requests.at(-1));
    assert.deepEqual(
      sent.messages.map((m) => [m.role, textOf(m.content)]),
      [
        ["user", "My name is Ada."],
        ["assistant", "Nice to meet you, Ada."],
        ["user", "My name?"],
      ],
    );
    const items = (await state.conversationItems(conversation.id)) ?? [];
    assert.equal(items.length, 4);
    assert.equal(items[3]?.item.id, res.output[0]?.id);
  });
});

describe("privacy follows the stored state", () => {
  it("keeps a conversation private on later turns: they never reach the cloud target", async () => {
    const first = await client.responses.create(
      { model: "mixed", input: "Notes from my doctor's visit." },
      { headers: { "x-tandem-sensitivity": "private" } },
    );
    assert.equal(first.model, target("ollama"));
    assert.equal(fakes.openai.requests.length, 0);

    // Nothing in this turn or the history looks private to the detector; the stored marking says so.
    const { data: second, response } = await client.responses
      .create({ model: "mixed", input: "Summarise them.", previous_response_id: first.id })
      .withResponse();
    assert.equal(second.model, target("ollama"));
    assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
    assert.equal(fakes.openai.requests.length, 0);
    assert.match(transcript(fakes.ollama.requests.at(-1)), /doctor's visit/);

    // A public conversation on the same route goes to the cloud tier first.
    const open = await client.responses.create({ model: "mixed", input: "What is 2 + 2?" });
    assert.equal(open.model, target("openai"));
  });
});

describe("failover", () => {
  it("keeps one well-formed event stream when the answer moves to another target mid-way", async () => {
    fakes.openai.script(() => ({ kind: "broken_stream", chunks: ["The answer ", "is "] }));
    fakes.anthropic.script(() => ({ kind: "text", text: "forty-two.", usage: { input: 9, output: 3 } }));
    const res = await fetch(`${tandem.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fallback", input: "What is the answer?", stream: true }),
    });
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /\n\n: tandem switched from openai\/gpt-4o-mini to anthropic\/claude-haiku-4-5/);
    const frames = body.split("\n\n").filter((f) => f !== "" && !f.startsWith(":"));
    const events = frames.map(
      (f) => JSON.parse(f.split("\n")[1]?.slice(6) ?? "null") as { type: string; sequence_number: number },
    );
    for (const [i, event] of events.entries()) assert.equal(event.sequence_number, i);
    assert.equal(events.filter((e) => e.type === "response.output_item.added").length, 1);
    const last = events.at(-1) as unknown as {
      type: string;
      response: { output_text?: string; output: { content: { text: string }[] }[] };
    };
    assert.equal(last.type, "response.completed");
    assert.equal(last.response.output[0]?.content[0]?.text, "The answer is forty-two.");
    // The continuing target was shown the question and the text so far.
    assert.match(transcript(fakes.anthropic.requests.at(-1)), /What is the answer\?/);
  });
});

describe("errors", () => {
  it("answers unknown URLs with unknown_url and unknown models with model_not_found", async () => {
    const res = await fetch(`${tandem.url}/v1/foo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: { message: "Invalid URL (POST /v1/foo)", type: "invalid_request_error", param: null, code: "unknown_url" },
    });
    await assert.rejects(
      client.responses.create({ model: "nowhere/none", input: "Hi" }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && (err.error as { code?: string }).code === "model_not_found",
    );
  });

  it("answers an unknown previous_response_id as OpenAI does: a 400, not a 404", async () => {
    await assert.rejects(
      client.responses.create({ model: target("openai"), input: "Hi", previous_response_id: "resp_unknown" }),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError &&
        err.param === "previous_response_id" &&
        (err.error as { code?: string }).code === "previous_response_not_found",
    );
    assert.equal(fakes.openai.requests.length, 0);
  });
});
