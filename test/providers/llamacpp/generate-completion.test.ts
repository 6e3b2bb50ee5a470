/**
 * The embedded engine's raw prompts (ChatRequest.completion): continued as text, without the chat
 * template, and with a suffix filled in the middle between the model's FIM tokens. Driven in-process
 * on the engine's own model host, so the exact tokens the model evaluated can be read from its
 * sequence: the prefix token, the prompt, the suffix token, the suffix and the middle token, in the
 * model's order (Qwen2.5-Coder's), not just "some text came back". The models are scripted bigram
 * machines: their answer depends only on the last token evaluated, so it also shows which it was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getLlama, type Llama, type LlamaContextSequence, type Token } from "node-llama-cpp";
import { type CompletionPrompt, GatewayError, type ProviderChatRequest, type StreamEvent } from "../../../src/core/index.js";
import { generateChat } from "../../../src/providers/llamacpp/worker/generate-chat.js";
import { generateCompletion } from "../../../src/providers/llamacpp/worker/generate-completion.js";
import { type LoadedModel, ModelHost } from "../../../src/providers/llamacpp/worker/model-host.js";
import { MIDDLE, OTHER, PREFIX, STORY, STORY_END, SUFFIX, writeFimModels } from "../../support/gguf/fim-models.js";
import { FIM, makeModelDir, writeJsonAnswerModel } from "../../support/gguf/index.js";

let llama: Llama;
let host: ModelHost;
let fim: LoadedModel;
let plain: LoadedModel;
let json: LoadedModel;
let cleanup: () => Promise<void>;

/** The sequence each generation ran on (the engine reuses them): the tokens it holds are what was evaluated. */
let lastSequence: LlamaContextSequence | undefined;

function watchSequences(loaded: LoadedModel): void {
  const acquire = loaded.acquire.bind(loaded);
  loaded.acquire = async () => {
    lastSequence = await acquire();
    return lastSequence;
  };
}

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const { coder: fimPath, plain: plainPath } = await writeFimModels(made.dir);
  const jsonPath = join(made.dir, "json.gguf");
  await writeJsonAnswerModel(jsonPath);
  llama = await getLlama({ gpu: false, build: "never" });
  host = new ModelHost(llama, () => {});
  const spec = { contextSize: 128, parallel: 1, threads: 1, gpuLayers: 0 as const, generation: 0 };
  fim = await host.get({ name: "coder", path: fimPath, ...spec });
  plain = await host.get({ name: "plain", path: plainPath, ...spec });
  json = await host.get({ name: "json", path: jsonPath, ...spec });
  watchSequences(fim);
  watchSequences(plain);
});

after(async () => {
  await host?.unload("coder");
  await host?.unload("plain");
  await host?.unload("json");
  await llama?.dispose();
  await cleanup?.();
});

function request(
  completion: CompletionPrompt,
  extra: Partial<ProviderChatRequest> = {},
): ProviderChatRequest & {
  completion: CompletionPrompt;
} {
  return {
    model: "local/coder",
    upstreamModel: "coder",
    messages: [{ role: "user", content: [{ type: "text", text: completion.prompt }] }],
    completion,
    stream: true,
    temperature: 0,
    ...extra,
  };
}

async function run(
  loaded: LoadedModel,
  req: ProviderChatRequest & { completion: CompletionPrompt },
  signal = new AbortController().signal,
): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  await generateCompletion(loaded, req, signal, (event) => events.push(event));
  return events;
}

function textOf(events: readonly StreamEvent[]): string {
  return events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");
}

function finishOf(events: readonly StreamEvent[]) {
  return events.find((e) => e.type === "finish");
}

function usageOf(events: readonly StreamEvent[]) {
  const usage = events.find((e) => e.type === "usage");
  return usage?.type === "usage" ? usage.usage : undefined;
}

/** The tokens the last generation evaluated before its answer. */
function evaluated(count: number): Token[] {
  assert.ok(lastSequence, "a sequence was used");
  return lastSequence.contextTokens.slice(0, count);
}

function id(loaded: LoadedModel, special: string): Token {
  const tokens = loaded.model.tokenize(special, true);
  assert.equal(tokens.length, 1, `${special} is one token`);
  return tokens[0] as Token;
}

describe("fill in the middle on the embedded engine", () => {
  it("evaluates the prefix token, the prompt, the suffix token, the suffix and the middle token, in that order, and writes the middle", async () => {
    const events = await run(fim, request({ prompt: PREFIX, suffix: SUFFIX }));
    assert.equal(textOf(events), MIDDLE.join(""));
    const model = fim.model;
    const expected = [
      id(fim, FIM.prefix),
      ...model.tokenize(PREFIX, false, "trimLeadingSpace"),
      id(fim, FIM.suffix),
      ...model.tokenize(SUFFIX, false, "trimLeadingSpace"),
      id(fim, FIM.middle),
    ];
    assert.deepEqual(evaluated(expected.length), expected);
    assert.equal(model.detokenize(evaluated(expected.length), true), `${FIM.prefix}${PREFIX}${FIM.suffix}${SUFFIX}${FIM.middle}`);
    assert.deepEqual(usageOf(events), { inputTokens: expected.length, outputTokens: 2, cachedInputTokens: 0 });
    assert.deepEqual(
      { reason: finishOf(events)?.type === "finish" && finishOf(events)?.reason },
      { reason: "stop" },
      "the model's end of text ends it",
    );
    assert.equal(events[0]?.type, "start");
  });

  it("keeps max tokens, stop sequences and token logprobs", async () => {
    const short = await run(fim, request({ prompt: PREFIX, suffix: SUFFIX }, { maxTokens: 1 }));
    assert.equal(textOf(short), "return");
    assert.equal(finishOf(short)?.type === "finish" && finishOf(short)?.reason, "length");

    const stopped = await run(fim, request({ prompt: PREFIX, suffix: SUFFIX }, { stop: [" a +"] }));
    assert.equal(textOf(stopped), "return");
    const finish = finishOf(stopped);
    assert.ok(finish?.type === "finish");
    assert.equal(finish.reason, "stop");
    assert.equal(finish.stopSequence, " a +");

    const withLogprobs = await run(fim, request({ prompt: PREFIX, suffix: SUFFIX }, { logprobs: { topLogprobs: 2 } }));
    const tokens = withLogprobs.flatMap((e) => (e.type === "text-delta" ? (e.logprobs ?? []) : []));
    assert.deepEqual(
      tokens.map((t) => t.token),
      MIDDLE,
    );
    for (const t of tokens) {
      assert.ok(Number.isFinite(t.logprob) && t.logprob <= 0);
      assert.equal(t.topLogprobs[0]?.token, t.token, "greedy: the chosen token is the most likely");
    }
  });

  it("is a 400 naming suffix and the model when the model has no FIM tokens", async () => {
    await assert.rejects(
      run(plain, request({ prompt: PREFIX, suffix: SUFFIX })),
      (err: unknown) =>
        err instanceof GatewayError &&
        err.code === "invalid_request" &&
        err.param === "suffix" &&
        /local\/plain has no fill-in-the-middle tokens/.test(err.message),
    );
  });

  it("refuses a prefix and suffix that do not fit the window, rather than cutting them", async () => {
    const long = "word ".repeat(200);
    await assert.rejects(
      run(fim, request({ prompt: long, suffix: SUFFIX })),
      (err: unknown) => err instanceof GatewayError && err.code === "context_length_exceeded",
    );
  });
});

describe("raw prompts on the embedded engine", () => {
  it("continues the prompt as it is: no chat template (the chat of the same text is answered from the template's end)", async () => {
    const events = await run(plain, request({ prompt: STORY_END }));
    assert.equal(textOf(events), STORY.join(""));
    const prompt = plain.model.tokenize(STORY_END, true);
    assert.deepEqual(evaluated(prompt.length + 1).slice(0, prompt.length), prompt);
    assert.equal(usageOf(events)?.inputTokens, prompt.length);

    // The same text as a chat ends with the template's "assistant\n", which this model answers otherwise.
    const chatted: StreamEvent[] = [];
    const { completion: _, ...chat } = request({ prompt: STORY_END });
    await generateChat(plain, chat, new AbortController().signal, (e) => chatted.push(e));
    assert.equal(textOf(chatted), OTHER);
  });

  it("reads a special token's text in a raw prompt as that token (a FIM template written by the client)", async () => {
    const prompt = `${FIM.prefix}${PREFIX}${FIM.suffix}${SUFFIX}${FIM.middle}`;
    const events = await run(fim, request({ prompt, rawParam: "raw" }));
    assert.equal(textOf(events), MIDDLE.join(""));
    assert.equal(evaluated(1)[0], id(fim, FIM.prefix));
  });

  it("refuses a prompt longer than the window with context_length_exceeded, never cut", async () => {
    await assert.rejects(
      run(plain, request({ prompt: `${"word ".repeat(200)}${STORY_END}` })),
      (err: unknown) => err instanceof GatewayError && err.code === "context_length_exceeded",
    );
  });

  it("keeps a JSON output format (its grammar) on a raw prompt", async () => {
    const events = await run(json, request({ prompt: "The answer as JSON:" }, { responseFormat: { type: "json" } }));
    assert.deepEqual(JSON.parse(textOf(events)), { answer: "yes" });
    // A schema the model's own answer breaks: the grammar makes it write what the schema allows.
    const schema = {
      type: "object",
      properties: { answer: { type: "string", enum: ["no"] } },
      required: ["answer"],
      additionalProperties: false,
    };
    const forced = await run(
      json,
      request({ prompt: "The answer as JSON:" }, { responseFormat: { type: "json_schema", schema }, maxTokens: 40 }),
    );
    assert.deepEqual(JSON.parse(textOf(forced)), { answer: "no" });
  });

  it("stops at once when canceled", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      run(plain, request({ prompt: STORY_END }), controller.signal),
      (err: unknown) => err instanceof GatewayError && err.code === "canceled",
    );
  });
});

describe("a chat's usage on the embedded engine", () => {
  /** The chat's prompt as the model's template writes it, in tokens: the ground truth of the prompt count. */
  function templated(text: string): Token[] {
    const state = plain.chatWrapper.generateContextState({
      chatHistory: [
        { type: "user", text },
        { type: "model", response: [] },
      ],
    });
    return state.contextText.tokenize(plain.model.tokenizer);
  }

  async function chat(text: string, maxTokens?: number): Promise<StreamEvent[]> {
    const { completion: _, ...req } = request({ prompt: text }, maxTokens === undefined ? {} : { maxTokens });
    const events: StreamEvent[] = [];
    await generateChat(plain, req, new AbortController().signal, (e) => events.push(e));
    return events;
  }

  // The last token sampled (the end of text, or the one at the limit) is never evaluated: the prompt
  // used to be counted one token short (what the sequence holds less every token sampled).
  it("counts the templated prompt exactly, whether the answer ends at the end of text or at max_tokens", async () => {
    const prompt = templated("Tell me a story");
    const ended = await chat("Tell me a story");
    assert.equal(textOf(ended), OTHER);
    assert.equal(finishOf(ended)?.type === "finish" && finishOf(ended)?.raw, "eogToken");
    assert.deepEqual(evaluated(prompt.length), prompt, "the template as the engine evaluated it");
    assert.equal(usageOf(ended)?.inputTokens, prompt.length);
    assert.equal(usageOf(ended)?.outputTokens, 1);

    const cut = await chat("Tell me a story", 1);
    assert.equal(finishOf(cut)?.type === "finish" && finishOf(cut)?.reason, "length");
    assert.equal(usageOf(cut)?.inputTokens, prompt.length);
    const cached = usageOf(cut)?.cachedInputTokens ?? 0;
    assert.ok(cached > 0 && cached < prompt.length, `the same prompt again is mostly cached (${cached})`);
  });
});
