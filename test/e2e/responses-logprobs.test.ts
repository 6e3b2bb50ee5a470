/**
 * Token logprobs on POST /v1/responses over an OpenAI-compatible chat-completions upstream, with the
 * official openai SDK against a real tandem and recording fakes: `include:
 * ["message.output_text.logprobs"]` (with `top_logprobs` when given) reaches the upstream as chat
 * completions' `logprobs` and `top_logprobs`, and what it reports comes back as OpenAI's Responses API
 * gives it: on the output_text part (whole, streamed, stored) and on the text delta and done events.
 * Without the include nothing is asked and nothing changes (`top_logprobs` alone returns none, as
 * OpenAI's). A target that cannot report them (Anthropic, Ollama) names them in x-tandem-warnings.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { Response, ResponseOutputText, ResponseStreamEvent } from "openai/resources/responses/responses";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import type { FakeAnthropic } from "../support/fake-anthropic-upstream.js";
import type { FakeOllamaUpstream } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, fakeLogprobs } from "../support/fake-openai-upstream.js";
import {
  ANTHROPIC,
  type LogprobsTandem,
  lastPostBody as lastChat,
  OLLAMA,
  OPENAI,
  PIECES,
  startLogprobsTandem,
  TEXT,
} from "../support/logprobs-tandem.js";
import { postJson } from "../support/post-json.js";
import type { RunningTandem } from "../support/tandem.js";

const INCLUDE = ["message.output_text.logprobs"] as const;

let upstreams: LogprobsTandem;
let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  // `whole`: the upstream is asked for one whole chat.completion, not a stream.
  upstreams = await startLogprobsTandem(
    { auto: { tiers: [OPENAI] }, whole: { tiers: [OPENAI], streamUpstream: false } },
    { state: new MemoryStateStore() },
  );
  ({ openai, anthropic, ollama, tandem } = upstreams);
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(() => upstreams?.close());

beforeEach(() => upstreams.reset());

/** The logprobs an output_text part should have for the fake's tokens `from`..: chat completions' entries, bytes and all. */
function partLogprobs(top: number, pieces = PIECES, from = 0): ResponseOutputText.Logprob[] {
  return fakeLogprobs(pieces, top, from).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: t.bytes ?? [],
    top_logprobs: t.top_logprobs.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes ?? [] })),
  }));
}

/** The same as the text events have them (ResponseTextDeltaEvent.Logprob): without bytes. */
function eventLogprobs(top: number, pieces = PIECES, from = 0): unknown[] {
  return partLogprobs(top, pieces, from).map(({ token, logprob, top_logprobs }) => ({
    token,
    logprob,
    top_logprobs: top_logprobs.map((a) => ({ token: a.token, logprob: a.logprob })),
  }));
}

function outputText(response: Pick<Response, "output">): ResponseOutputText {
  const message = response.output.find((item) => item.type === "message");
  assert.ok(message?.type === "message", "the response has a message");
  const part = message.content[0];
  assert.ok(part?.type === "output_text", "the message has text");
  return part;
}

async function streamed(body: Parameters<OpenAI["responses"]["create"]>[0]): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  const stream = await client.responses.create({ ...body, stream: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
  for await (const event of stream) events.push(event);
  return events;
}

function ofType<T extends ResponseStreamEvent["type"]>(events: ResponseStreamEvent[], type: T) {
  return events.filter((e): e is Extract<ResponseStreamEvent, { type: T }> => e.type === type);
}

describe("a chat-completions target asked for logprobs", () => {
  for (const [model, upstreamStreams] of [
    [OPENAI, true],
    ["whole", false],
  ] as const) {
    it(`whole (upstream ${upstreamStreams ? "streamed" : "whole"}): include and top_logprobs reach the upstream, its tokens come back on the output_text part and when retrieved`, async () => {
      const { data: response, response: raw } = await client.responses
        .create({ model, input: "Say hello in French", include: [...INCLUDE], top_logprobs: 2 })
        .withResponse();
      const sent = lastChat(openai);
      assert.deepEqual([sent.logprobs, sent.top_logprobs, sent.stream], [true, 2, upstreamStreams]);
      assert.equal(raw.headers.get("x-tandem-warnings"), null);
      assert.equal(response.top_logprobs, 2);
      const part = outputText(response);
      assert.equal(part.text, TEXT);
      assert.deepEqual(part.logprobs, partLogprobs(2));
      // The bytes are the upstream's: " à" is three of them.
      assert.deepEqual(part.logprobs?.[2]?.bytes, [32, 195, 160]);
      const stored = await client.responses.retrieve(response.id);
      assert.deepEqual(outputText(stored).logprobs, partLogprobs(2));
    });
  }

  it("without top_logprobs the upstream is sent logprobs alone, and each token has no alternatives", async () => {
    const response = await client.responses.create({ model: OPENAI, input: "hi", include: [...INCLUDE] });
    const sent = lastChat(openai);
    assert.equal(sent.logprobs, true);
    assert.equal("top_logprobs" in sent, false);
    assert.deepEqual(outputText(response).logprobs, partLogprobs(0));
    assert.ok(outputText(response).logprobs?.every((t) => t.top_logprobs.length === 0));
  });

  it("streamed: each delta carries its tokens, .done and the finished part all of them, and the stored response the same", async () => {
    const events = await streamed({ model: OPENAI, input: "hi", include: [...INCLUDE], top_logprobs: 3 });
    const sent = lastChat(openai);
    assert.deepEqual([sent.logprobs, sent.top_logprobs, sent.stream], [true, 3, true]);
    const deltas = ofType(events, "response.output_text.delta");
    assert.deepEqual(
      deltas.map((d) => d.delta),
      PIECES,
    );
    deltas.forEach((delta, i) => {
      assert.deepEqual(delta.logprobs, eventLogprobs(3, [PIECES[i] as string], i), `delta ${i}`);
    });
    const [done] = ofType(events, "response.output_text.done");
    assert.deepEqual(done?.logprobs, eventLogprobs(3));
    // The part as it opens has none yet; as it closes, all of them (with bytes).
    const [added] = ofType(events, "response.content_part.added");
    assert.deepEqual(added?.part, { type: "output_text", annotations: [], logprobs: [], text: "" });
    const [partDone] = ofType(events, "response.content_part.done");
    assert.deepEqual(partDone?.part, { type: "output_text", annotations: [], logprobs: partLogprobs(3), text: TEXT });
    const [itemDone] = ofType(events, "response.output_item.done");
    assert.ok(itemDone?.item.type === "message");
    assert.deepEqual(itemDone.item.content[0], partDone?.part);
    const [completed] = ofType(events, "response.completed");
    assert.ok(completed);
    assert.deepEqual(outputText(completed.response).logprobs, partLogprobs(3));
    const stored = await client.responses.retrieve(completed.response.id);
    assert.deepEqual(outputText(stored).logprobs, partLogprobs(3));
  });

  it("streamed through the SDK's helper: the final response has them", async () => {
    const stream = client.responses.stream({ model: OPENAI, input: "hi", include: [...INCLUDE], top_logprobs: 1 });
    for await (const _ of stream);
    assert.deepEqual(outputText(await stream.finalResponse()).logprobs, partLogprobs(1));
  });

  it("an upstream that reports none leaves the part's logprobs empty, unnamed", async () => {
    // A compatible server that ignores `logprobs`: chunks with logprobs null, as today's.
    openai.script(() => ({
      kind: "raw",
      body: [
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: "ok" }, logprobs: null, finish_reason: null }] })}\n\n`,
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] })}\n\n`,
        "data: [DONE]\n\n",
      ],
    }));
    const events = await streamed({ model: OPENAI, input: "hi", include: [...INCLUDE] });
    assert.deepEqual(
      ofType(events, "response.output_text.delta").map((d) => d.logprobs),
      [[]],
    );
    const [completed] = ofType(events, "response.completed");
    assert.ok(completed);
    assert.deepEqual(outputText(completed.response).logprobs, []);
  });
});

describe("logprobs not asked for", () => {
  it("top_logprobs alone asks the upstream for nothing and returns none, as OpenAI's (echoed, not warned)", async () => {
    const r = await postJson(`${tandem.url}/v1/responses`, { model: OPENAI, input: "hi", top_logprobs: 4 });
    assert.equal(r.status, 200, r.text);
    const sent = lastChat(openai);
    assert.equal("logprobs" in sent, false);
    assert.equal("top_logprobs" in sent, false);
    assert.equal(r.headers.get("x-tandem-warnings"), null);
    assert.equal(r.json.top_logprobs, 4);
    assert.deepEqual(r.json.output[0].content, [{ type: "output_text", annotations: [], logprobs: [], text: TEXT }]);
  });

  it("output stays as it was, even from an upstream that reports logprobs unasked", async () => {
    const plain = await streamed({ model: OPENAI, input: "hi" });
    assert.equal("logprobs" in lastChat(openai), false);
    // A compatible server that always reports them: not the client's to see without the include.
    openai.script(() => ({
      kind: "raw",
      body: [
        ...PIECES.map(
          (piece, i) =>
            `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: piece }, logprobs: { content: fakeLogprobs([piece], 2, i), refusal: null }, finish_reason: null }] })}\n\n`,
        ),
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] })}\n\n`,
        "data: [DONE]\n\n",
      ],
    }));
    const unasked = await streamed({ model: OPENAI, input: "hi" });
    for (const events of [plain, unasked]) {
      assert.deepEqual(
        ofType(events, "response.output_text.delta").map((d) => d.logprobs),
        PIECES.map(() => []),
      );
      assert.deepEqual(ofType(events, "response.output_text.done")[0]?.logprobs, []);
      const [completed] = ofType(events, "response.completed");
      assert.ok(completed);
      assert.deepEqual(completed.response.output[0], {
        ...completed.response.output[0],
        content: [{ type: "output_text", annotations: [], logprobs: [], text: TEXT }],
      });
    }
    const whole = await client.responses.create({ model: OPENAI, input: "hi" });
    assert.deepEqual(outputText(whole), { type: "output_text", annotations: [], logprobs: [], text: TEXT });
  });
});

describe("an Ollama target asked for logprobs (Ollama 0.12.11+)", () => {
  it("whole and streamed: /api/chat gets logprobs and top_logprobs, and each line's tokens come back on the part", async () => {
    const { data: response, response: raw } = await client.responses
      .create({ model: OLLAMA, input: "hi", include: [...INCLUDE], top_logprobs: 2 })
      .withResponse();
    const sent = lastChat(ollama);
    assert.deepEqual([sent.logprobs, sent.top_logprobs], [true, 2]);
    assert.equal(raw.headers.get("x-tandem-warnings"), null);
    assert.deepEqual(outputText(response).logprobs, partLogprobs(2));

    const events = await streamed({ model: OLLAMA, input: "hi", include: [...INCLUDE], top_logprobs: 2 });
    const deltas = ofType(events, "response.output_text.delta");
    assert.deepEqual(
      deltas.map((d) => d.delta),
      PIECES,
    );
    deltas.forEach((delta, i) => {
      assert.deepEqual(delta.logprobs, eventLogprobs(2, [PIECES[i] as string], i), `delta ${i}`);
    });
    const [completed] = ofType(events, "response.completed");
    assert.ok(completed);
    assert.deepEqual(outputText(completed.response).logprobs, partLogprobs(2));
  });

  it("not asked: Ollama is sent no logprobs fields", async () => {
    await client.responses.create({ model: OLLAMA, input: "hi" });
    const sent = lastChat(ollama);
    assert.equal("logprobs" in sent, false);
    assert.equal("top_logprobs" in sent, false);
  });
});

describe("a target that cannot report logprobs", () => {
  for (const [target, fake] of [[ANTHROPIC, () => anthropic]] as const) {
    it(`${target}: named in x-tandem-warnings, not sent, and the part's logprobs empty`, async () => {
      const { data: response, response: raw } = await client.responses
        .create({ model: target, input: "hi", include: [...INCLUDE], top_logprobs: 2 })
        .withResponse();
      const warnings = raw.headers.get("x-tandem-warnings") ?? "";
      assert.ok(warnings.includes(`logprobs not sent to ${target}`), warnings);
      assert.ok(warnings.includes(`top_logprobs not sent to ${target}`), warnings);
      const sent = lastChat(fake());
      assert.equal("logprobs" in sent, false);
      assert.equal("top_logprobs" in sent, false);
      assert.deepEqual(outputText(response).logprobs, []);
      // Streamed too: the same header, and empty logprobs throughout.
      const stream = await client.responses
        .create({ model: target, input: "hi", include: [...INCLUDE], stream: true })
        .withResponse();
      assert.ok((stream.response.headers.get("x-tandem-warnings") ?? "").includes(`logprobs not sent to ${target}`));
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream.data) events.push(event);
      assert.ok(ofType(events, "response.output_text.delta").every((d) => d.logprobs.length === 0));
    });
  }
});
