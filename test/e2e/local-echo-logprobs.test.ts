/**
 * lm-evaluation-harness's log-likelihood requests on the embedded engine, through a real tandem and
 * the official `openai` client: legacy completions with `echo: true`, `logprobs: N`, `max_tokens` 0
 * or 1 and `temperature: 0`, the prompt as text or as token ids of the model's own vocabulary. The
 * choice's text is the prompt then the answer, its `tokens` join to that text, the prompt's tokens'
 * logprobs are node-llama-cpp's own for the same tokens (the first null) and `text_offset` counts
 * from the prompt's start. A target that cannot report the prompt's logprobs (an OpenAI-compatible
 * upstream) is skipped for them, and a route with no other target is a 400 naming `echo` before any
 * upstream is called. The model is stories260K (a real SentencePiece model that wants a beginning token).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getLlama, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

const STORIES = join(import.meta.dirname, "../../../shared/models/stories260K.gguf");
const CONTEXT = "Once upon a time, there was a little girl named Lily.";
const CONTINUATION = " She liked to play outside.";
const CONTEXT_SIZE = 256;

let tandem: RunningTandem;
let upstream: FakeOpenAIUpstream;
let client: OpenAI;
let llama: Llama;
let model: LlamaModel;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  const fast = { retry: { attempts: 1 }, timeouts: PATIENT_TIMEOUTS };
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { stories: { path: STORIES, contextSize: CONTEXT_SIZE } } },
      openai: { kind: "openai", baseUrl: upstream.url, models: { gpt: { id: "gpt-4o-mini" } } },
    },
    routes: {
      "cloud-then-local": { tiers: [["openai/gpt"], ["local/stories"]], ...fast },
      "cloud-only": { tiers: [["openai/gpt"]], ...fast },
    },
  });
  await loadLocalModel(tandem, "local/stories");
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  llama = await getLlama({ gpu: false, build: "never" });
  model = await llama.loadModel({ modelPath: STORIES });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
  await model?.dispose();
  await llama?.dispose();
});

/** The tokens the model reads for a text prompt: its beginning token, then the text's. */
function promptTokens(text: string): Token[] {
  return [model.tokens.bos as Token, ...model.tokenize(text, true)];
}

/** node-llama-cpp's own logprob of each token given those before it (the first null), on a context like the engine's. */
async function reference(tokens: readonly Token[]): Promise<(number | null)[]> {
  const context = await model.createContext({ contextSize: CONTEXT_SIZE, threads: 1 });
  try {
    const out = await context
      .getSequence()
      .controlledEvaluate(tokens.slice(0, -1).map((t) => [t, { generateNext: { probabilities: true } }]));
    return tokens.map((t, i) => (i === 0 ? null : Math.log(out[i - 1]?.next.probabilities?.get(t) as number)));
  } finally {
    await context.dispose();
  }
}

interface Logprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

function assertLogprobsMatch(actual: readonly (number | null)[], expected: readonly (number | null)[]): void {
  assert.equal(actual.length, expected.length);
  for (const [i, want] of expected.entries()) {
    const got = actual[i] ?? null;
    if (want === null) assert.equal(got, null, `token ${i}`);
    else assert.ok(got !== null && Math.abs(got - want) < 1e-4, `token ${i}: ${got} vs ${want}`);
  }
}

/** Each token's offset is the characters of the tokens before it, from 0. */
function assertOffsets(logprobs: Logprobs): void {
  let at = 0;
  for (const [i, token] of logprobs.tokens.entries()) {
    assert.equal(logprobs.text_offset[i], at, `offset of token ${i}`);
    at += [...token].length;
  }
}

describe("lm-evaluation-harness's requests on the embedded engine", () => {
  it("text prompt, max_tokens 0: the prompt's tokens alone, their logprobs node-llama-cpp's, the first null", async () => {
    const prompt = CONTEXT + CONTINUATION;
    const request = { model: "local/stories", prompt, echo: true, logprobs: 1, max_tokens: 0, temperature: 0 };
    const res = await client.completions.create(request);
    const choice = res.choices[0];
    assert.ok(choice);
    assert.equal(choice.text, prompt);
    assert.equal(choice.finish_reason, "length");
    const logprobs = choice.logprobs as unknown as Logprobs;
    assert.equal(logprobs.tokens.join(""), prompt);
    const tokens = promptTokens(prompt);
    assertLogprobsMatch(logprobs.token_logprobs, await reference(tokens));
    assert.equal(logprobs.top_logprobs[0], null);
    // logprobs: 1 gives the most likely token, and the prompt's own beside it when it is another.
    for (const [i, top] of logprobs.top_logprobs.entries()) {
      if (i === 0) continue;
      assert.ok(top && Object.keys(top).length >= 1 && Object.keys(top).length <= 2, `top of ${i}`);
      assert.equal(top[logprobs.tokens[i] as string], logprobs.token_logprobs[i]);
    }
    assertOffsets(logprobs);
    assert.equal(res.usage?.prompt_tokens, tokens.length);
    assert.equal(res.usage?.completion_tokens, 0);
    // Again, the engine's sequence now holding the prompt: the same figures, evaluated anew.
    const again = await client.completions.create(request);
    assertLogprobsMatch((again.choices[0]?.logprobs as unknown as Logprobs).token_logprobs, logprobs.token_logprobs);
  });

  it("token-id prompt in the model's own vocabulary, max_tokens 1: the same prompt logprobs, then the answer's token", async () => {
    const prompt = CONTEXT + CONTINUATION;
    const ids = promptTokens(prompt);
    const expected = await reference(ids);
    const res = await client.completions.create({
      model: "local/stories",
      prompt: ids,
      echo: true,
      logprobs: 5,
      max_tokens: 1,
      temperature: 0,
    });
    const choice = res.choices[0];
    assert.ok(choice);
    const logprobs = choice.logprobs as unknown as Logprobs;
    // lm-eval reads the continuation's logprobs as token_logprobs[ctxlen:-1]: one entry per id, then the answer's.
    assert.equal(logprobs.tokens.length, ids.length + 1);
    assertLogprobsMatch(logprobs.token_logprobs.slice(0, -1), expected);
    assert.equal(typeof logprobs.token_logprobs.at(-1), "number");
    assert.equal(logprobs.tokens.join(""), choice.text);
    assert.equal(Object.keys(logprobs.top_logprobs[1] ?? {}).length >= 5, true);
    assertOffsets(logprobs);
    assert.equal(res.usage?.prompt_tokens, ids.length);
    assert.equal(res.usage?.completion_tokens, 1);
  });

  it("streamed: the first chunk is the prompt with its tokens, then the answer's continue its offsets", async () => {
    const stream = await client.completions.create({
      model: "local/stories",
      prompt: CONTEXT,
      echo: true,
      logprobs: 2,
      max_tokens: 3,
      temperature: 0,
      stream: true,
    });
    let text = "";
    const merged: Logprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
    let first: Logprobs | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.text;
      const lp = choice.logprobs as unknown as Logprobs | null;
      if (!lp) continue;
      first ??= lp;
      merged.tokens.push(...lp.tokens);
      merged.token_logprobs.push(...lp.token_logprobs);
      merged.top_logprobs.push(...lp.top_logprobs);
      merged.text_offset.push(...lp.text_offset);
    }
    assert.ok(text.startsWith(CONTEXT));
    assert.equal(first?.tokens.join(""), CONTEXT);
    assert.equal(merged.tokens.join(""), text);
    assert.equal(merged.tokens.length, promptTokens(CONTEXT).length + 3);
    assertOffsets(merged);
  });

  it("several prompts and n: each choice echoes its own prompt with its own tokens", async () => {
    const prompts = [CONTEXT, CONTINUATION.trim()];
    const res = await client.completions.create({
      model: "local/stories",
      prompt: prompts,
      n: 2,
      echo: true,
      logprobs: 1,
      max_tokens: 0,
      temperature: 0,
    });
    assert.equal(res.choices.length, 4);
    for (const choice of res.choices) {
      const prompt = prompts[Math.floor(choice.index / 2)] as string;
      assert.equal(choice.text, prompt);
      const logprobs = choice.logprobs as unknown as Logprobs;
      assert.equal(logprobs.tokens.join(""), prompt);
      assertLogprobsMatch(logprobs.token_logprobs, await reference(promptTokens(prompt)));
      assertOffsets(logprobs);
    }
  });

  it("best_of ranks by the answer's tokens only: every candidate echoes the prompt", async () => {
    const res = await client.completions.create({
      model: "local/stories",
      prompt: CONTEXT,
      best_of: 2,
      n: 1,
      echo: true,
      logprobs: 1,
      max_tokens: 2,
      temperature: 0,
    });
    const logprobs = res.choices[0]?.logprobs as unknown as Logprobs;
    assert.equal(logprobs.tokens.length, promptTokens(CONTEXT).length + 2);
    assert.equal(logprobs.token_logprobs[0], null);
  });
});

describe("targets that cannot report the prompt's logprobs", () => {
  it("are skipped: a route with a cloud tier first is answered by the engine, the upstream never called", async () => {
    upstream.requests.length = 0;
    const { data, response } = await client.completions
      .create({ model: "cloud-then-local", prompt: CONTEXT, echo: true, logprobs: 0, max_tokens: 0 })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "local/stories");
    assert.equal(data.choices[0]?.text, CONTEXT);
    assert.equal(upstream.requests.length, 0);
  });

  it("a route with none is a 400 naming echo, before any upstream is called", async () => {
    upstream.requests.length = 0;
    for (const model of ["cloud-only", "openai/gpt"]) {
      const error = await client.completions.create({ model, prompt: CONTEXT, echo: true, logprobs: 1, max_tokens: 1 }).then(
        () => assert.fail("answered"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof OpenAI.BadRequestError, `${model}: ${error}`);
      assert.equal(error.param, "echo");
      assert.match(error.message, /prompt's own token logprobs/);
    }
    assert.equal(upstream.requests.length, 0);
  });

  it("echo alone still reaches them, and ids that are no cl100k_base tokens are a 400 naming prompt there", async () => {
    const error = await client.completions.create({ model: "cloud-only", prompt: [1, 150_000], max_tokens: 1 }).then(
      () => assert.fail("answered"),
      (err: unknown) => err,
    );
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.param, "prompt");
    assert.equal(upstream.requests.length, 0);
  });
});

describe("bad requests", () => {
  it("an id outside the model's vocabulary is a 400 naming prompt", async () => {
    const error = await client.completions
      .create({ model: "local/stories", prompt: [1, 2, 999_999], echo: true, logprobs: 1, max_tokens: 0 })
      .then(
        () => assert.fail("answered"),
        (err: unknown) => err,
      );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, "prompt");
    assert.match(error.message, /token id 999999 is not a token of local\/stories's vocabulary/);
  });

  it("max_tokens 0 without echo and logprobs, and echo with logprobs and a suffix, are 400s naming the field", async () => {
    const noEcho = await client.completions.create({ model: "local/stories", prompt: CONTEXT, max_tokens: 0 }).then(
      () => assert.fail("answered"),
      (err: unknown) => err,
    );
    assert.ok(noEcho instanceof OpenAI.BadRequestError);
    assert.equal(noEcho.param, "max_tokens");
    const withSuffix = await client.completions
      .create({ model: "local/stories", prompt: CONTEXT, suffix: "The end.", echo: true, logprobs: 1 })
      .then(
        () => assert.fail("answered"),
        (err: unknown) => err,
      );
    assert.ok(withSuffix instanceof OpenAI.BadRequestError);
    assert.equal(withSuffix.param, "echo");
  });
});
