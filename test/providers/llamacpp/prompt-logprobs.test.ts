/**
 * The embedded engine's echo of a raw prompt with its own token logprobs (CompletionPrompt.echo
 * `logprobs`, legacy completions' `echo` with `logprobs`, as lm-evaluation-harness scores by), and
 * prompts of token ids read as the model's own. Driven in-process on the engine's model host, and
 * checked against node-llama-cpp's own evaluation of the same tokens on the same model and context
 * (controlledEvaluate, the distribution after each token): stories260K, a real SentencePiece model
 * that wants a beginning token, and a scripted bigram model (no beginning token) whose greedy answer
 * is known.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getLlama, type Llama, type Token } from "node-llama-cpp";
import {
  type CompletionPrompt,
  GatewayError,
  type PromptTokenLogprob,
  type ProviderChatRequest,
  type StreamEvent,
} from "../../../src/core/index.js";
import { generateCompletion } from "../../../src/providers/llamacpp/worker/generate-completion.js";
import { type LoadedModel, ModelHost } from "../../../src/providers/llamacpp/worker/model-host.js";
import { EOS, makeModelDir, writeBigramModel } from "../../support/gguf/index.js";

const STORIES = join(import.meta.dirname, "../../../../shared/models/stories260K.gguf");
const STORY = "Once upon a time, there was a little girl named Lily.";
const BIGRAM_END = "Once upon a time";
const BIGRAM_NEXT = [" there", " was"];

let llama: Llama;
let host: ModelHost;
let stories: LoadedModel;
let bigram: LoadedModel;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const bigramPath = join(made.dir, "bigram.gguf");
  await writeBigramModel(bigramPath, {
    start: ["Other."],
    extraPieces: [BIGRAM_END],
    transitions: [
      { from: BIGRAM_END, to: [BIGRAM_NEXT[0] as string, "Other."] },
      { from: BIGRAM_NEXT[0] as string, to: [BIGRAM_NEXT[1] as string] },
      { from: BIGRAM_NEXT[1] as string, to: [EOS] },
      { from: "Other.", to: [EOS] },
    ],
  });
  llama = await getLlama({ gpu: false, build: "never" });
  host = new ModelHost(llama, () => {});
  const spec = { contextSize: 128, parallel: 1, threads: 1, gpuLayers: 0 as const, generation: 0 };
  stories = await host.get({ name: "stories", path: STORIES, ...spec });
  bigram = await host.get({ name: "bigram", path: bigramPath, ...spec });
});

after(async () => {
  await host?.unload("stories");
  await host?.unload("bigram");
  await llama?.dispose();
  await cleanup?.();
});

function request(completion: CompletionPrompt, extra: Partial<ProviderChatRequest> = {}) {
  return {
    model: "local/stories",
    upstreamModel: "stories",
    messages: [{ role: "user" as const, content: [{ type: "text" as const, text: completion.prompt }] }],
    completion,
    stream: true,
    temperature: 0,
    ...extra,
  };
}

async function run(loaded: LoadedModel, req: ReturnType<typeof request>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  await generateCompletion(loaded, req, new AbortController().signal, (event) => events.push(event));
  return events;
}

/** The prompt events' pieces run on: the whole echoed prompt. */
function promptOf(events: readonly StreamEvent[]): { type: "prompt"; text: string; logprobs?: PromptTokenLogprob[] } {
  const pieces = events.filter((e) => e.type === "prompt");
  assert.ok(pieces.length > 0, "a prompt event");
  const text = pieces.map((p) => p.text).join("");
  if (pieces.every((p) => p.logprobs === undefined)) return { type: "prompt", text };
  return { type: "prompt", text, logprobs: pieces.flatMap((p) => p.logprobs ?? []) };
}

/**
 * node-llama-cpp's own figures for `tokens` on the model's own context (a sequence of it, emptied
 * first): each token's logprob given those before it (the first none), the most likely next tokens
 * at each position, and the distribution after the last token.
 */
async function reference(loaded: LoadedModel, tokens: readonly Token[]) {
  const sequence = await loaded.acquire();
  try {
    await sequence.clearHistory();
    const out = await sequence.controlledEvaluate(tokens.map((t) => [t, { generateNext: { probabilities: true } }]));
    const dists = out.map((o) => o?.next.probabilities as Map<Token, number>);
    return {
      logprobs: tokens.map((t, i) => (i === 0 ? null : Math.log((dists[i - 1] as Map<Token, number>).get(t) as number))),
      top: (i: number, n: number) => [...(dists[i - 1] as Map<Token, number>).entries()].slice(0, n),
      after: dists.at(-1) as Map<Token, number>,
    };
  } finally {
    await sequence.clearHistory();
    loaded.release(sequence);
  }
}

function assertClose(actual: number | null, expected: number | null, what: string): void {
  if (expected === null) {
    assert.equal(actual, null, what);
    return;
  }
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-4, `${what}: ${actual} vs ${expected}`);
}

function joined(tokens: readonly PromptTokenLogprob[]): string {
  return new TextDecoder().decode(new Uint8Array(tokens.flatMap((t) => t.bytes)));
}

describe("echo with logprobs on the embedded engine", () => {
  it("gives each prompt token's logprob as node-llama-cpp evaluates it, the first null, with max_tokens 0 the prompt alone", async () => {
    const bos = stories.model.tokens.bos as Token;
    const read = [bos, ...stories.model.tokenize(STORY, true)];
    const ref = await reference(stories, read);
    const events = await run(
      stories,
      request({ prompt: STORY, echo: "logprobs" }, { maxTokens: 0, logprobs: { topLogprobs: 3 } }),
    );
    const prompt = promptOf(events);
    assert.equal(prompt.text, STORY);
    const tokens = prompt.logprobs as PromptTokenLogprob[];
    // The beginning token the engine put first is shown, with no text, as a tokenizer counts it.
    assert.equal(tokens.length, read.length);
    assert.deepEqual(tokens[0], { token: "", bytes: [], logprob: null, topLogprobs: null });
    assert.equal(joined(tokens), STORY);
    for (const [i, token] of tokens.entries()) {
      assertClose(token.logprob, ref.logprobs[i] as number | null, `token ${i}`);
      if (i === 0) continue;
      const top = token.topLogprobs ?? [];
      assert.equal(top.length, 3);
      for (const [k, [, p]] of ref.top(i, 3).entries()) assertClose(top[k]?.logprob ?? null, Math.log(p), `token ${i} top ${k}`);
    }
    assert.equal(
      events.some((e) => e.type === "text-delta"),
      false,
    );
    assert.deepEqual(
      events.find((e) => e.type === "usage"),
      { type: "usage", usage: { inputTokens: read.length, outputTokens: 0, cachedInputTokens: 0 } },
    );
    assert.deepEqual(events.at(-1), { type: "finish", reason: "length" });
  });

  it("reports a long prompt batch by batch, the pieces running on to the same figures", async () => {
    const long = `${STORY} ${STORY} ${STORY} ${STORY}`;
    const read = [stories.model.tokens.bos as Token, ...stories.model.tokenize(long, true)];
    // 32 positions a batch: the first reports the first token (null) and the 32 after it.
    assert.ok(read.length > 34 && read.length < 65, `${read.length} tokens: two batches, within the window`);
    const ref = await reference(stories, read);
    const events = await run(stories, request({ prompt: long, echo: "logprobs" }, { maxTokens: 0 }));
    const pieces = events.filter((e) => e.type === "prompt");
    assert.deepEqual(
      pieces.map((p) => p.logprobs?.length),
      [33, read.length - 33],
    );
    const prompt = promptOf(events);
    assert.equal(prompt.text, long);
    for (const [i, token] of (prompt.logprobs ?? []).entries()) assertClose(token.logprob, ref.logprobs[i] ?? null, `token ${i}`);
  });

  it("gives the same again when the sequence already holds the prompt (its logits are evaluated anew)", async () => {
    const req = request({ prompt: STORY, echo: "logprobs" }, { maxTokens: 0, logprobs: { topLogprobs: 1 } });
    const first = promptOf(await run(stories, req)).logprobs as PromptTokenLogprob[];
    // A plain completion of the same prompt leaves it evaluated on the (only) sequence.
    await run(stories, request({ prompt: STORY }, { maxTokens: 2 }));
    const second = promptOf(await run(stories, req)).logprobs as PromptTokenLogprob[];
    assert.equal(second.length, first.length);
    for (const [i, token] of second.entries()) assertClose(token.logprob, first[i]?.logprob ?? null, `token ${i}`);
  });

  it("then generates: the answer's token logprobs follow the prompt's, from the distribution after its last token", async () => {
    const tokens = bigram.model.tokenize(BIGRAM_END, true);
    const ref = await reference(bigram, tokens);
    const events = await run(
      bigram,
      request({ prompt: BIGRAM_END, echo: "logprobs" }, { upstreamModel: "bigram", maxTokens: 1, logprobs: { topLogprobs: 2 } }),
    );
    const prompt = promptOf(events);
    assert.equal(prompt.text, BIGRAM_END);
    // No beginning token for this vocabulary: the prompt is one scripted piece, and nothing precedes it.
    assert.deepEqual(
      prompt.logprobs?.map((t) => [t.token, t.logprob]),
      [[BIGRAM_END, null]],
    );
    const deltas = events.filter((e) => e.type === "text-delta");
    assert.equal(deltas.map((d) => d.text).join(""), BIGRAM_NEXT[0]);
    const answer = deltas.flatMap((d) => d.logprobs ?? []);
    assert.equal(answer.length, 1);
    const next = tokens.length === 1 ? bigram.model.tokenize(BIGRAM_NEXT[0] as string, true)[0] : undefined;
    assertClose(answer[0]?.logprob ?? null, Math.log(ref.after.get(next as Token) as number), "answer token");
    assert.deepEqual(
      answer[0]?.topLogprobs.map((t) => t.token),
      [BIGRAM_NEXT[0], "Other."],
    );
    assert.equal(events.findIndex((e) => e.type === "prompt") < events.findIndex((e) => e.type === "text-delta"), true);
  });
});

describe("token-id prompts on the embedded engine", () => {
  it("reads the ids as the model's own: with its beginning token they are the text prompt's tokens exactly", async () => {
    const bos = stories.model.tokens.bos as Token;
    const ids = [bos, ...stories.model.tokenize(STORY, true)];
    const fromText = promptOf(await run(stories, request({ prompt: STORY, echo: "logprobs" }, { maxTokens: 0 })));
    // The cl100k_base text the parser would decode them to is not what the engine reads.
    const events = await run(stories, request({ prompt: "unused cl100k text", tokens: ids, echo: "logprobs" }, { maxTokens: 0 }));
    const fromIds = promptOf(events);
    assert.equal(fromIds.logprobs?.length, ids.length);
    for (const [i, token] of (fromIds.logprobs ?? []).entries()) {
      assertClose(token.logprob, fromText.logprobs?.[i]?.logprob ?? null, `token ${i}`);
      // The first word's SentencePiece space is the client's to keep in a text prompt, the model's decoding's in ids.
      if (i > 1) assert.equal(token.token, fromText.logprobs?.[i]?.token);
    }
    // The client's ids are shown as sent (its beginning token in its own text), as the model decodes them.
    assert.equal(fromIds.text, stories.model.detokenize(ids, true));
    assert.equal(joined(fromIds.logprobs ?? []), fromIds.text);
  });

  it("puts the beginning token before ids without it, and shows the client's ids only (the first null)", async () => {
    const bos = stories.model.tokens.bos as Token;
    const ids = stories.model.tokenize(STORY, true);
    const ref = await reference(stories, [bos, ...ids]);
    const prompt = promptOf(
      await run(stories, request({ prompt: "", tokens: ids, tokensOnly: true, echo: "logprobs" }, { maxTokens: 0 })),
    );
    assert.equal(prompt.logprobs?.length, ids.length);
    assert.equal(prompt.logprobs?.[0]?.logprob, null);
    for (let i = 1; i < ids.length; i++)
      assertClose(prompt.logprobs?.[i]?.logprob ?? null, ref.logprobs[i + 1] ?? null, `id ${i}`);
    assert.equal(joined(prompt.logprobs ?? []), prompt.text);
  });

  it("echo alone: ids are echoed as the model decodes them, without logprobs; a text prompt is left to the client's own text", async () => {
    const ids = bigram.model.tokenize(BIGRAM_END, true);
    const events = await run(
      bigram,
      request({ prompt: "cl100k text", tokens: ids, echo: "text" }, { upstreamModel: "bigram", maxTokens: 1 }),
    );
    assert.deepEqual(promptOf(events), { type: "prompt", text: BIGRAM_END });
    const text = await run(bigram, request({ prompt: BIGRAM_END, echo: "text" }, { upstreamModel: "bigram", maxTokens: 1 }));
    assert.equal(
      text.some((e) => e.type === "prompt"),
      false,
    );
  });

  it("continues the ids, not the text the request carries beside them", async () => {
    const ids = bigram.model.tokenize(BIGRAM_END, true);
    const events = await run(bigram, request({ prompt: "Other.", tokens: ids }, { upstreamModel: "bigram", maxTokens: 4 }));
    assert.equal(events.map((e) => (e.type === "text-delta" ? e.text : "")).join(""), BIGRAM_NEXT.join(""));
  });

  it("refuses an id outside the model's vocabulary with a 400 naming prompt", async () => {
    const size = (stories.model.fileInfo.metadata.tokenizer.ggml.tokens as readonly string[]).length;
    for (const bad of [size, 2 ** 31]) {
      await assert.rejects(
        run(stories, request({ prompt: "", tokens: [1, 2, bad], tokensOnly: true, echo: "logprobs" }, { maxTokens: 0 })),
        (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.status, 400);
          assert.equal(err.param, "prompt");
          assert.match(
            err.message,
            new RegExp(`token id ${bad} is not a token of local/stories's vocabulary \\(ids 0 to ${size - 1}\\)`),
          );
          return true;
        },
      );
    }
  });
});
