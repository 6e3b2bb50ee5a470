/**
 * Token logprobs for chat completions and Ollama clients on the canonical path, through the official
 * openai and ollama clients against a real tandem and recording fakes: a chat client's `logprobs:
 * true` (with `top_logprobs`) reaches an Ollama target as /api/chat's `logprobs`/`top_logprobs`, and
 * an Ollama client's (/api/chat and /api/generate) an OpenAI-compatible target as chat completions';
 * what the target reports comes back in the client's own shapes, streamed (on the chunk or line that
 * carries the text) and whole. Bad values are a 400 in the client's dialect; a target that cannot
 * report them (Anthropic) names them in x-tandem-warnings by the client's fields; without the
 * request asking, nothing is sent and nothing changes. (The same-wire path passes them through
 * byte for byte: see passthrough-openai and passthrough-ollama; the Responses API's: see
 * responses-logprobs; the embedded engine's: local-logprobs.)
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type ChatResponse, type GenerateResponse, Ollama } from "ollama";
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { fakeLogprobs } from "../support/fake-openai-upstream.js";
import {
  ANTHROPIC,
  type LogprobsTandem,
  lastPostBody as lastBody,
  OLLAMA,
  OPENAI,
  PIECES,
  startLogprobsTandem,
  TEXT,
} from "../support/logprobs-tandem.js";
import { postJson } from "../support/post-json.js";
import type { RunningTandem } from "../support/tandem.js";

const MESSAGES = [{ role: "user" as const, content: "Say hello in French" }];

let upstreams: LogprobsTandem;
let tandem: RunningTandem;
let chat: OpenAI;
let ollamaClient: Ollama;

before(async () => {
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  // `*-whole`: the upstream is asked for one whole answer, not a stream.
  upstreams = await startLogprobsTandem({
    "ollama-whole": { tiers: [OLLAMA], streamUpstream: false },
    "openai-whole": { tiers: [OPENAI], streamUpstream: false },
    "openai-then-ollama": { tiers: [[OPENAI], [OLLAMA]], ...fast },
  });
  tandem = upstreams.tandem;
  chat = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  ollamaClient = new Ollama({ host: tandem.url });
});

after(() => upstreams?.close());

beforeEach(() => upstreams.reset());

/** A choice's `logprobs` as chat completions gives it for the fake's tokens `from`.. (each token with its bytes). */
function chatLogprobs(top: number, pieces = PIECES, from = 0): OpenAI.ChatCompletion.Choice.Logprobs {
  return { content: fakeLogprobs(pieces, top, from), refusal: null };
}

/** The same tokens as Ollama gives them: `top_logprobs` left out when empty (Go's omitempty). */
function ollamaLogprobs(top: number, pieces = PIECES, from = 0): unknown[] {
  return fakeLogprobs(pieces, top, from).map(({ top_logprobs, ...token }) =>
    top_logprobs.length > 0 ? { ...token, top_logprobs } : token,
  );
}

async function chunksOf(body: Omit<OpenAI.ChatCompletionCreateParamsStreaming, "stream">): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of await chat.chat.completions.create({ ...body, stream: true })) chunks.push(chunk);
  return chunks;
}

describe("a chat completions client, an Ollama target", () => {
  for (const [model, upstreamStreams] of [
    [OLLAMA, true],
    ["ollama-whole", false],
  ] as const) {
    it(`whole (upstream ${upstreamStreams ? "streamed" : "whole"}): logprobs and top_logprobs reach /api/chat, the tokens come back on the choice`, async () => {
      const { data, response } = await chat.chat.completions
        .create({ model, messages: MESSAGES, logprobs: true, top_logprobs: 2 })
        .withResponse();
      const sent = lastBody(upstreams.ollama);
      assert.deepEqual([sent.logprobs, sent.top_logprobs, sent.stream], [true, 2, upstreamStreams]);
      assert.equal(response.headers.get("x-tandem-warnings"), null);
      assert.equal(data.choices[0]?.message.content, TEXT);
      assert.deepEqual(data.choices[0]?.logprobs, chatLogprobs(2));
      // The bytes are the upstream's: " à" is three of them.
      assert.deepEqual(data.choices[0]?.logprobs?.content?.[2]?.bytes, [32, 195, 160]);
    });
  }

  it("streamed: each text chunk carries its tokens, the role and finish chunks none; the SDK's helper gathers them all", async () => {
    const chunks = await chunksOf({ model: OLLAMA, messages: MESSAGES, logprobs: true, top_logprobs: 3 });
    const sent = lastBody(upstreams.ollama);
    assert.deepEqual([sent.logprobs, sent.top_logprobs], [true, 3]);
    const texts = chunks.filter((c) => c.choices[0]?.delta.content);
    assert.deepEqual(
      texts.map((c) => c.choices[0]?.delta.content),
      PIECES,
    );
    texts.forEach((chunk, i) => {
      assert.deepEqual(chunk.choices[0]?.logprobs, chatLogprobs(3, [PIECES[i] as string], i), `chunk ${i}`);
    });
    assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant");
    assert.equal(chunks[0]?.choices[0]?.logprobs, null);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
    assert.equal(chunks.at(-1)?.choices[0]?.logprobs, null);

    const stream = chat.chat.completions.stream({ model: OLLAMA, messages: MESSAGES, logprobs: true, top_logprobs: 1 });
    const final = await stream.finalChatCompletion();
    assert.deepEqual(final.choices[0]?.logprobs?.content, chatLogprobs(1).content);
  });

  it("without top_logprobs: Ollama is sent logprobs alone, and each token has no alternatives", async () => {
    const completion = await chat.chat.completions.create({ model: OLLAMA, messages: MESSAGES, logprobs: true });
    const sent = lastBody(upstreams.ollama);
    assert.equal(sent.logprobs, true);
    assert.equal("top_logprobs" in sent, false);
    assert.deepEqual(completion.choices[0]?.logprobs, chatLogprobs(0));
  });

  it("an answer continued on Ollama after the same-wire stream broke: the continuation's chunks carry its tokens", async () => {
    upstreams.openai.script(() => ({ kind: "broken_stream", chunks: ["Bon"] }));
    upstreams.ollama.script(() => ({ kind: "text", text: "jour", chunks: ["jour"], usage: { input: 9, output: 1 } }));
    const chunks = await chunksOf({ model: "openai-then-ollama", messages: MESSAGES, logprobs: true, top_logprobs: 1 });
    assert.deepEqual(lastBody(upstreams.openai).logprobs, true);
    assert.deepEqual([lastBody(upstreams.ollama).logprobs, lastBody(upstreams.ollama).top_logprobs], [true, 1]);
    const texts = chunks.filter((c) => c.choices[0]?.delta.content);
    assert.deepEqual(
      texts.map((c) => [c.choices[0]?.delta.content, c.choices[0]?.logprobs]),
      [
        // The broken upstream's own chunk, as it came (this fake reports none there).
        ["Bon", null],
        ["jour", chatLogprobs(1, ["jour"])],
      ],
    );
  });
});

describe("an Ollama client, an OpenAI-compatible target", () => {
  for (const [model, upstreamStreams] of [
    [OPENAI, true],
    ["openai-whole", false],
  ] as const) {
    it(`/api/chat whole (upstream ${upstreamStreams ? "streamed" : "whole"}): logprobs and top_logprobs reach chat completions, the tokens come back as Ollama's`, async () => {
      const response = await ollamaClient.chat({ model, messages: MESSAGES, logprobs: true, top_logprobs: 2, stream: false });
      const sent = lastBody(upstreams.openai);
      assert.deepEqual([sent.logprobs, sent.top_logprobs, sent.stream], [true, 2, upstreamStreams]);
      assert.equal(response.message.content, TEXT);
      assert.deepEqual(response.logprobs, ollamaLogprobs(2));
    });
  }

  it("/api/chat streamed: each text line carries its tokens, the done line none", async () => {
    const parts: ChatResponse[] = [];
    for await (const part of await ollamaClient.chat({
      model: OPENAI,
      messages: MESSAGES,
      logprobs: true,
      top_logprobs: 2,
      stream: true,
    }))
      parts.push(part);
    const texts = parts.filter((p) => p.message.content !== "");
    assert.deepEqual(
      texts.map((p) => [p.message.content, p.logprobs]),
      PIECES.map((piece, i) => [piece, ollamaLogprobs(2, [piece], i)]),
    );
    assert.equal(parts.at(-1)?.done, true);
    assert.equal("logprobs" in (parts.at(-1) as object), false);
  });

  it("/api/generate, whole and streamed: the same, on `response`", async () => {
    const whole = await ollamaClient.generate({
      model: OPENAI,
      prompt: "Say hello",
      logprobs: true,
      top_logprobs: 1,
      stream: false,
    });
    assert.deepEqual([lastBody(upstreams.openai).logprobs, lastBody(upstreams.openai).top_logprobs], [true, 1]);
    assert.equal(whole.response, TEXT);
    assert.deepEqual(whole.logprobs, ollamaLogprobs(1));

    const parts: GenerateResponse[] = [];
    for await (const part of await ollamaClient.generate({
      model: OPENAI,
      prompt: "Say hello",
      logprobs: true,
      top_logprobs: 1,
      stream: true,
    }))
      parts.push(part);
    assert.deepEqual(
      parts.filter((p) => p.response !== "").map((p) => [p.response, p.logprobs]),
      PIECES.map((piece, i) => [piece, ollamaLogprobs(1, [piece], i)]),
    );
  });

  it("logprobs with top_logprobs 0: chat completions gets top_logprobs 0, and the tokens have no top_logprobs field, as Ollama's", async () => {
    const response = await ollamaClient.chat({
      model: OPENAI,
      messages: MESSAGES,
      logprobs: true,
      top_logprobs: 0,
      stream: false,
    });
    assert.deepEqual([lastBody(upstreams.openai).logprobs, lastBody(upstreams.openai).top_logprobs], [true, 0]);
    assert.deepEqual(response.logprobs, ollamaLogprobs(0));
    assert.ok(response.logprobs?.every((t) => !("top_logprobs" in t)));
  });
});

describe("a legacy completions client, an Ollama target", () => {
  const PROMPT = "Say hello";
  /** The choice's `logprobs` as the legacy API gives them: offsets from the prompt's start, the chosen token always among the top. */
  function legacyLogprobs(top: number, pieces = PIECES, from = 0): OpenAI.CompletionChoice.Logprobs {
    const tokens = fakeLogprobs(pieces, top, from);
    const before = PROMPT.length + PIECES.slice(0, from).join("").length;
    return {
      tokens: tokens.map((t) => t.token),
      token_logprobs: tokens.map((t) => t.logprob),
      top_logprobs: tokens.map((t) => ({
        ...Object.fromEntries(t.top_logprobs.map((a) => [a.token, a.logprob])),
        [t.token]: t.logprob,
      })),
      text_offset: tokens.map((_, i) => before + pieces.slice(0, i).join("").length),
    };
  }

  it("whole: logprobs 2 reaches /api/chat as logprobs and top_logprobs 2, the tokens come back in the legacy shape", async () => {
    const { data, response } = await chat.completions.create({ model: OLLAMA, prompt: PROMPT, logprobs: 2 }).withResponse();
    const sent = lastBody(upstreams.ollama);
    assert.deepEqual([sent.logprobs, sent.top_logprobs], [true, 2]);
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    assert.equal(data.choices[0]?.text, TEXT);
    assert.deepEqual(data.choices[0]?.logprobs, legacyLogprobs(2));
    assert.deepEqual(data.choices[0]?.logprobs?.text_offset, [9, 12, 16, 18]);
  });

  it("streamed: each text chunk carries its tokens, their offsets running on; the finish chunk none", async () => {
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of await chat.completions.create({ model: OLLAMA, prompt: PROMPT, logprobs: 1, stream: true }))
      chunks.push(chunk);
    const texts = chunks.filter((c) => c.choices[0]?.text);
    assert.deepEqual(
      texts.map((c) => [c.choices[0]?.text, c.choices[0]?.logprobs]),
      PIECES.map((piece, i) => [piece, legacyLogprobs(1, [piece], i)]),
    );
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
    assert.equal(chunks.at(-1)?.choices[0]?.logprobs, null);
  });

  it("logprobs 0: the chosen tokens alone; Ollama is sent no top_logprobs", async () => {
    const completion = await chat.completions.create({ model: OLLAMA, prompt: PROMPT, logprobs: 0 });
    assert.equal(lastBody(upstreams.ollama).logprobs, true);
    assert.equal("top_logprobs" in lastBody(upstreams.ollama), false);
    assert.deepEqual(
      completion.choices[0]?.logprobs?.top_logprobs,
      fakeLogprobs(PIECES, 0).map((t) => ({ [t.token]: t.logprob })),
    );
  });

  it("to Anthropic: named by the legacy field alone, and the choice's logprobs null", async () => {
    const { data, response } = await chat.completions.create({ model: ANTHROPIC, prompt: PROMPT, logprobs: 3 }).withResponse();
    assert.equal(response.headers.get("x-tandem-warnings"), `logprobs not sent to ${ANTHROPIC}`);
    assert.equal("logprobs" in lastBody(upstreams.anthropic), false);
    assert.equal(data.choices[0]?.logprobs, null);
  });
});

describe("bad logprobs settings: a 400 in the client's dialect naming the field", () => {
  const cases = [
    ["chat: top_logprobs without logprobs", "/v1/chat/completions", { top_logprobs: 2 }, "top_logprobs"],
    ["chat: top_logprobs with logprobs false", "/v1/chat/completions", { logprobs: false, top_logprobs: 2 }, "top_logprobs"],
    ["chat: logprobs not a boolean", "/v1/chat/completions", { logprobs: "yes" }, "logprobs"],
    ["Ollama chat: logprobs not a boolean", "/api/chat", { logprobs: 1 }, "logprobs"],
    ["Ollama chat: top_logprobs above 20", "/api/chat", { logprobs: true, top_logprobs: 25 }, "top_logprobs"],
    ["Ollama generate: top_logprobs below 0", "/api/generate", { logprobs: true, top_logprobs: -1 }, "top_logprobs"],
  ] as const;
  for (const [label, path, fields, param] of cases) {
    it(label, async () => {
      const body =
        path === "/api/generate" ? { model: OLLAMA, prompt: "hi", ...fields } : { model: OLLAMA, messages: MESSAGES, ...fields };
      const r = await postJson(`${tandem.url}${path}`, body);
      assert.equal(r.status, 400, r.text);
      if (path.startsWith("/v1/")) {
        assert.equal(r.json.error.param, param);
        assert.equal(r.json.error.type, "invalid_request_error");
        assert.ok(r.json.error.message.includes(`'${param}'`), r.json.error.message);
      } else {
        // Ollama's own words name the field bare ("top_logprobs must be between 0 and 20").
        assert.equal(typeof r.json.error, "string");
        assert.ok(r.json.error.includes(param), r.json.error);
      }
      assert.equal(upstreams.ollama.requests.length, 0, "nothing reached the upstream");
    });
  }
});

describe("a target that cannot report logprobs (Anthropic): named by the client's own fields", () => {
  it("chat completions: logprobs and top_logprobs named and not sent, the choice's logprobs null; logprobs false names nothing", async () => {
    const { data, response } = await chat.chat.completions
      .create({ model: ANTHROPIC, messages: MESSAGES, logprobs: true, top_logprobs: 2 })
      .withResponse();
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.ok(warnings.includes(`logprobs not sent to ${ANTHROPIC}`), warnings);
    assert.ok(warnings.includes(`top_logprobs not sent to ${ANTHROPIC}`), warnings);
    const sent = lastBody(upstreams.anthropic);
    assert.equal("logprobs" in sent, false);
    assert.equal("top_logprobs" in sent, false);
    assert.equal(data.choices[0]?.logprobs, null);

    const stream = await chat.chat.completions
      .create({ model: ANTHROPIC, messages: MESSAGES, logprobs: true, stream: true })
      .withResponse();
    assert.ok((stream.response.headers.get("x-tandem-warnings") ?? "").includes(`logprobs not sent to ${ANTHROPIC}`));
    for await (const chunk of stream.data) assert.equal(chunk.choices[0]?.logprobs, null);

    // `logprobs: false` asks for nothing: nothing to name.
    const unasked = await chat.chat.completions.create({ model: ANTHROPIC, messages: MESSAGES, logprobs: false }).withResponse();
    assert.equal(unasked.response.headers.get("x-tandem-warnings"), null);
  });

  it("Ollama: logprobs named (top_logprobs 0 asks for no alternatives, so it is not); top_logprobs alone names nothing", async () => {
    for (const path of ["/api/chat", "/api/generate"]) {
      const body = path === "/api/chat" ? { model: ANTHROPIC, messages: MESSAGES } : { model: ANTHROPIC, prompt: "hi" };
      const asked = await postJson(`${tandem.url}${path}`, { ...body, stream: false, logprobs: true, top_logprobs: 0 });
      assert.equal(asked.status, 200, asked.text);
      assert.equal(asked.headers.get("x-tandem-warnings"), `logprobs not sent to ${ANTHROPIC}`, path);
      assert.equal("logprobs" in asked.json, false);
      const two = await postJson(`${tandem.url}${path}`, { ...body, stream: false, logprobs: true, top_logprobs: 2 });
      assert.equal(
        two.headers.get("x-tandem-warnings"),
        `logprobs not sent to ${ANTHROPIC}; top_logprobs not sent to ${ANTHROPIC}`,
      );
      // As Ollama: top_logprobs without logprobs asks for nothing.
      const alone = await postJson(`${tandem.url}${path}`, { ...body, stream: false, top_logprobs: 3 });
      assert.equal(alone.headers.get("x-tandem-warnings"), null, path);
    }
  });
});

describe("logprobs not asked for: nothing sent, nothing rendered", () => {
  it("chat completions to Ollama: no logprobs fields upstream, every chunk's and the choice's logprobs null; logprobs false the same, unnamed", async () => {
    for (const extra of [{}, { logprobs: false }]) {
      const chunks = await chunksOf({ model: OLLAMA, messages: MESSAGES, ...extra });
      assert.equal("logprobs" in lastBody(upstreams.ollama), false);
      assert.equal("top_logprobs" in lastBody(upstreams.ollama), false);
      assert.ok(chunks.length > PIECES.length);
      for (const chunk of chunks) assert.equal(chunk.choices[0]?.logprobs, null);
      const { data, response } = await chat.chat.completions
        .create({ model: OLLAMA, messages: MESSAGES, ...extra })
        .withResponse();
      assert.equal(data.choices[0]?.logprobs, null);
      assert.equal(response.headers.get("x-tandem-warnings"), null, JSON.stringify(extra));
    }
  });

  it("Ollama to an upstream that reports logprobs unasked: no line has them; top_logprobs alone asks the upstream for nothing, unnamed", async () => {
    // A compatible server that always reports them: not the client's to see without `logprobs: true`.
    upstreams.openai.script(() => ({
      kind: "raw",
      body: [
        ...PIECES.map(
          (piece, i) =>
            `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: piece }, logprobs: chatLogprobs(2, [piece], i), finish_reason: null }] })}\n\n`,
        ),
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] })}\n\n`,
        "data: [DONE]\n\n",
      ],
    }));
    for (const extra of [{}, { top_logprobs: 3 }]) {
      const streamed = await postJson(`${tandem.url}/api/chat`, { model: OPENAI, messages: MESSAGES, ...extra });
      assert.equal(streamed.status, 200, streamed.text);
      assert.equal("logprobs" in lastBody(upstreams.openai), false);
      assert.equal("top_logprobs" in lastBody(upstreams.openai), false);
      assert.equal(streamed.headers.get("x-tandem-warnings"), null, JSON.stringify(extra));
      const lines = streamed.text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(lines.map((l) => l.message.content).join(""), TEXT);
      for (const line of lines) assert.equal("logprobs" in line, false);
      const whole = await postJson(`${tandem.url}/api/chat`, { model: OPENAI, messages: MESSAGES, stream: false, ...extra });
      assert.equal(whole.json.message.content, TEXT);
      assert.equal("logprobs" in whole.json, false);
    }
  });
});
