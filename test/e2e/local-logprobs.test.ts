/**
 * Token logprobs from the embedded engine, through a real tandem on the real tiny models, with the
 * official openai and ollama clients: chat completions (`logprobs`, `top_logprobs`; streamed and
 * not), legacy completions (`logprobs: N`, and `best_of`, ranked by them), Ollama's /api/chat and the
 * Responses API's include. Every value is finite and <= 0, the alternatives come most likely first,
 * and with temperature 0 the chosen token is the most likely one; the tokens' bytes make up the
 * answer's UTF-8, also where a character is split across tokens. A forced tool call, whose answer is
 * no text, still names logprobs in x-tandem-warnings.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let client: OpenAI;

const PROMPT = [{ role: "user" as const, content: "Once upon a time" }];

before(async () => {
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          stories: { path: sharedModel("stories260K.gguf"), contextSize: 512 },
          tiny: { path: sharedModel("llama-2-tiny-random.gguf"), contextSize: 256 },
        },
      },
    },
    routes: { private: { tiers: ["local/stories"], privacy: "local-only", timeouts: PATIENT_TIMEOUTS } },
  });
  await loadLocalModel(tandem, "local/stories");
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
});

interface Alternative {
  token: string;
  logprob: number;
  bytes?: number[] | null;
}
interface Token extends Alternative {
  top_logprobs: Alternative[];
}

/**
 * What every answer's token logprobs must be: real log probabilities, alternatives sorted, the greedy
 * choice the top one. `masked`: a grammar rules tokens out, and a position may have fewer
 * alternatives than asked for (those it allows).
 */
function assertTokens(tokens: readonly Token[], top: number, greedy: boolean, masked = false): void {
  assert.ok(tokens.length > 0, "the answer has tokens");
  for (const t of tokens) {
    assert.ok(Number.isFinite(t.logprob) && t.logprob <= 0, `logprob ${t.logprob} of ${JSON.stringify(t.token)}`);
    if (masked) assert.ok(t.top_logprobs.length >= 1 && t.top_logprobs.length <= top);
    else assert.equal(t.top_logprobs.length, top);
    for (const [i, alt] of t.top_logprobs.entries()) {
      assert.ok(Number.isFinite(alt.logprob) && alt.logprob <= 0);
      if (i > 0) assert.ok(alt.logprob <= (t.top_logprobs[i - 1] as Alternative).logprob, "alternatives most likely first");
    }
    if (top === 0) continue;
    const same = t.top_logprobs.find((alt) => alt.token === t.token);
    if (greedy) {
      assert.deepEqual(t.top_logprobs[0], same, `the greedy choice ${JSON.stringify(t.token)} is the most likely one`);
    }
    if (same) assert.equal(same.logprob, t.logprob);
    else assert.ok(!greedy);
  }
}

/** The tokens with their logprobs rounded to 4 decimals, to compare two evaluations of the same text. */
function roundedLogprobs(tokens: readonly Token[]): Token[] {
  const round = (n: number) => Math.round(n * 1e4) / 1e4;
  return tokens.map((t) => ({
    ...t,
    logprob: round(t.logprob),
    top_logprobs: t.top_logprobs.map((alt) => ({ ...alt, logprob: round(alt.logprob) })),
  }));
}

/** The tokens' bytes, joined: the answer's UTF-8. */
function joinedBytes(tokens: readonly Token[]): string {
  return Buffer.from(tokens.flatMap((t) => t.bytes ?? [])).toString("utf8");
}

describe("token logprobs from the local engine", () => {
  it("chat completions, whole: each token with its logprob and top 3, no warning", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "private", messages: PROMPT, max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 3 })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "local/stories");
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    const choice = data.choices[0];
    const content = choice?.logprobs?.content ?? [];
    assertTokens(content, 3, true);
    assert.equal(content.length, data.usage?.completion_tokens);
    assert.equal(joinedBytes(content), choice?.message.content);
    assert.equal(content.map((t) => t.token).join(""), choice?.message.content);
  });

  it("chat completions, streamed: each chunk's tokens make up its text", async () => {
    const stream = await client.chat.completions.create({
      model: "private",
      messages: PROMPT,
      max_tokens: 12,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
      stream: true,
    });
    const tokens: Token[] = [];
    let text = "";
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      const piece = choice.delta.content ?? "";
      const own = choice.logprobs?.content ?? [];
      if (piece) assert.equal(own.map((t) => t.token).join(""), piece);
      text += piece;
      tokens.push(...own);
    }
    assertTokens(tokens, 3, true);
    assert.equal(tokens.length, 12);
    assert.equal(joinedBytes(tokens), text);
  });

  it("chat completions with logprobs alone: each token's logprob, no alternatives; sampled at temperature 1", async () => {
    const data = await client.chat.completions.create({
      model: "private",
      messages: PROMPT,
      max_tokens: 12,
      temperature: 1,
      seed: 7,
      logprobs: true,
    });
    const content = data.choices[0]?.logprobs?.content ?? [];
    assertTokens(content, 0, false);
    assert.equal(joinedBytes(content), data.choices[0]?.message.content);
  });

  it("a character split across tokens: each token's own bytes, joined the answer's UTF-8", async () => {
    // The grammar makes the model write the emoji, which stories260K's vocabulary holds only as four byte tokens.
    const data = await client.chat.completions.create({
      model: "private",
      messages: PROMPT,
      max_tokens: 20,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
      response_format: {
        type: "json_schema",
        json_schema: { name: "e", schema: { type: "object", properties: { e: { const: "a😀é" } }, required: ["e"] } },
      },
    });
    const answer = data.choices[0]?.message.content ?? "";
    assert.match(answer, /😀/);
    const content = data.choices[0]?.logprobs?.content ?? [];
    assertTokens(content, 2, true, true);
    assert.equal(joinedBytes(content), answer);
    const split = content.filter((t) => t.bytes?.length === 1 && (t.bytes[0] as number) >= 0x80);
    assert.deepEqual(
      split.map((t) => t.bytes?.[0]),
      [0xf0, 0x9f, 0x98, 0x80],
    );
    // A token that is part of a character has no text of its own: OpenAI writes its bytes escaped.
    assert.deepEqual(
      split.map((t) => t.token),
      ["\\xf0", "\\x9f", "\\x98", "\\x80"],
    );
  });

  it("legacy completions with logprobs: 2: tokens, token_logprobs, top_logprobs and text_offset", async () => {
    const prompt = "Once upon a time";
    const data = await client.completions.create({ model: "local/stories", prompt, max_tokens: 10, temperature: 0, logprobs: 2 });
    const choice = data.choices[0];
    const lp = choice?.logprobs;
    assert.ok(lp?.tokens && lp.token_logprobs && lp.top_logprobs && lp.text_offset);
    assert.equal(lp.tokens.length, 10);
    assert.equal(lp.tokens.join(""), choice?.text);
    for (const [i, token] of lp.tokens.entries()) {
      const logprob = lp.token_logprobs[i] as number;
      assert.ok(Number.isFinite(logprob) && logprob <= 0);
      const top = lp.top_logprobs[i] as Record<string, number>;
      assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 3);
      assert.equal(top[token], logprob);
      assert.equal(Math.max(...Object.values(top)), logprob, "greedy: the chosen token is the most likely");
    }
    assert.equal(lp.text_offset[0], prompt.length);
  });

  it("legacy completions' best_of is ranked by the engine's logprobs, best first", async () => {
    const { data, response } = await client.completions
      .create({
        model: "local/stories",
        prompt: "Once upon a time",
        max_tokens: 8,
        temperature: 1,
        n: 2,
        best_of: 3,
        logprobs: 0,
      })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    assert.equal(data.choices.length, 2);
    const means = data.choices.map((c) => {
      const values = c.logprobs?.token_logprobs ?? [];
      assert.ok(values.length > 0);
      return values.reduce((a, b) => a + b, 0) / values.length;
    });
    assert.ok((means[0] as number) >= (means[1] as number), `ranked best first: ${means.join(", ")}`);
    assert.equal(data.usage?.completion_tokens, 24, "every candidate is counted");
  });

  it("Ollama /api/chat with logprobs and top_logprobs, whole and streamed", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const whole = await ollama.chat({
      model: "private",
      messages: PROMPT,
      options: { num_predict: 8, temperature: 0 },
      logprobs: true,
      top_logprobs: 2,
    });
    const tokens = (whole.logprobs ?? []) as Token[];
    assertTokens(tokens, 2, true);
    assert.equal(joinedBytes(tokens), whole.message.content);

    const stream = await ollama.chat({
      model: "private",
      messages: PROMPT,
      options: { num_predict: 8, temperature: 0 },
      logprobs: true,
      top_logprobs: 2,
      stream: true,
    });
    const streamed: Token[] = [];
    let text = "";
    for await (const part of stream) {
      text += part.message.content;
      streamed.push(...((part.logprobs ?? []) as Token[]));
    }
    assertTokens(streamed, 2, true);
    assert.equal(text, whole.message.content);
    // The same tokens, with the same logprobs but for float rounding: the second request may reuse the
    // first's evaluated prompt (the engine's prefix cache), and llama.cpp's sums then run in another order.
    assert.deepEqual(roundedLogprobs(streamed), roundedLogprobs(tokens));
  });

  it("Responses with include message.output_text.logprobs and top_logprobs", async () => {
    const res = await client.responses.create({
      model: "private",
      input: "Once upon a time",
      max_output_tokens: 16,
      temperature: 0,
      include: ["message.output_text.logprobs"],
      top_logprobs: 2,
    });
    const message = res.output.find((item) => item.type === "message");
    const part = message?.type === "message" ? message.content[0] : undefined;
    assert.ok(part?.type === "output_text");
    assertTokens(part.logprobs ?? [], 2, true);
    assert.equal(joinedBytes(part.logprobs ?? []), part.text);
  });

  it("the full Llama 2 vocabulary: alternatives from the whole distribution, greedy still the top one", async () => {
    const data = await client.chat.completions.create({
      model: "local/tiny",
      messages: PROMPT,
      max_tokens: 8,
      temperature: 0,
      logprobs: true,
      top_logprobs: 5,
    });
    const content = data.choices[0]?.logprobs?.content ?? [];
    assertTokens(content, 5, true);
    assert.equal(joinedBytes(content), data.choices[0]?.message.content);
  });

  it("a logprobs stream canceled mid-way leaves the engine as it was", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "private", messages: PROMPT, max_tokens: 400, temperature: 0, logprobs: true, top_logprobs: 3, stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    // The SDK ends an aborted stream quietly (or throws its abort error): either way it stops here.
    try {
      for await (const _ of stream) if (++chunks === 3) controller.abort();
    } catch (err) {
      assert.ok(err instanceof OpenAI.APIUserAbortError, String(err));
    }
    assert.ok(chunks >= 3 && chunks < 50, `${chunks} chunks`);
    const after = await client.chat.completions.create({ model: "private", messages: PROMPT, max_tokens: 6, temperature: 0 });
    assert.equal(after.choices[0]?.logprobs, null);
    assert.equal(after.usage?.completion_tokens, 6);
    const again = await client.chat.completions.create({
      model: "private",
      messages: PROMPT,
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
    });
    assert.equal(again.choices[0]?.logprobs?.content?.length, 6);
    assert.equal(again.choices[0]?.message.content, after.choices[0]?.message.content);
  });

  it("a forced tool call, whose answer is no text, names logprobs as not sent", async () => {
    const { response } = await client.chat.completions
      .create({
        model: "private",
        messages: PROMPT,
        max_tokens: 40,
        temperature: 0,
        logprobs: true,
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }],
        tool_choice: "required",
      })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-warnings"), "logprobs not sent to local/stories");
  });
});
