import { LlamaCompletion, type LlamaCompletionResponse, type LlamaContextSequence, type Token } from "node-llama-cpp";
import {
  type CompletionPrompt,
  GatewayError,
  makeId,
  type ProviderChatRequest,
  type StreamEvent,
  type TokenLogprob,
  UNSUPPORTED_BY_TARGET,
} from "../../../core/index.js";
import { canceledError } from "../cancellation.js";
import { DEFAULT_TEMPERATURE, finishOf, grammarFor, mapError, overflowError, penaltiesOf, usageOf } from "./generate-chat.js";
import type { LoadedModel } from "./model-host.js";
import {
  beginningToken,
  checkVocabulary,
  evaluatePrompt,
  type PromptStep,
  promptBytes,
  promptTokenLogprob,
} from "./prompt-logprobs.js";
import { samplingSeed } from "./sampling-seed.js";
import { TokenLogprobs } from "./token-logprobs.js";

/** A request whose prompt is text to continue (ChatRequest.completion), not a chat. */
export type CompletionRequest = ProviderChatRequest & { completion: CompletionPrompt };

/**
 * Runs one raw prompt on a loaded model, without its chat template, and reports it as generateChat
 * does (`start`, text deltas with their logprobs when asked, `usage`, `finish`):
 *
 * - without a suffix, the prompt is continued as it is, as llama-server's and vLLM's /v1/completions
 *   and Ollama's `raw` do: its special tokens' texts (`<|im_start|>`, `<|fim_prefix|>`) are read as
 *   those tokens, and the model's beginning-of-text token goes first when it wants one;
 * - with a suffix, the model fills in the middle between its own FIM tokens (node-llama-cpp's
 *   LlamaCompletion infill: prefix token, prompt, suffix token, suffix, middle token, or the
 *   suffix-first order of a model without a middle token). A model without FIM tokens is a 400
 *   naming `suffix`.
 *
 * A prompt of token ids (CompletionPrompt.tokens) is evaluated as those ids of the model's own
 * vocabulary (as llama-server and vLLM take them; an id outside it is a 400 naming `prompt`), with
 * the beginning-of-text token in front only when the model wants one and they do not start with it.
 * With `echo`, the prompt is reported as the model read it (a `prompt` event: its text, and with
 * `echo: "logprobs"` each token's logprob given those before it and its alternatives, see
 * prompt-logprobs.ts) before the answer; `maxTokens: 0` then answers the prompt alone (`length`).
 *
 * Stop sequences, max tokens, sampling settings, a JSON grammar and cancellation work as in a chat.
 * A prompt that does not fit the window is context_length_exceeded, never cut; an answer that reaches
 * the end of the window stops there (`length`).
 */
export async function generateCompletion(
  loaded: LoadedModel,
  request: CompletionRequest,
  signal: AbortSignal,
  emit: (event: StreamEvent) => void,
): Promise<void> {
  const target = `local/${loaded.spec.name}`;
  const { prompt, suffix, echo } = request.completion;
  const grammar = await grammarFor(loaded, request);
  if (signal.aborted) throw canceledError(target);
  // The prompt as it will be evaluated (after its beginning token): which held sequence serves it best.
  const sequence = await loaded.acquire(() => {
    const bos = beginningToken(loaded.model);
    const own = suffix === undefined ? promptTokens(loaded, request.completion, target) : loaded.model.tokenize(prompt);
    return bos === undefined ? own : [bos, ...own];
  });
  if (signal.aborted) {
    loaded.release(sequence);
    throw canceledError(target);
  }
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  const logprobs =
    request.logprobs === undefined ? undefined : new TokenLogprobs(loaded.model, request.logprobs.topLogprobs ?? 0);
  let released: readonly Token[] = [];
  let outputTokens = 0;
  let meterBefore = sequence.tokenMeter.getState();
  /** The prompt was evaluated whole for its logprobs: none of it came from the sequence's cache. */
  let evaluatedWhole = false;
  try {
    if (suffix !== undefined && !completion.infillSupported) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for 'suffix': ${target} has no fill-in-the-middle tokens, so it cannot fill in the middle; send no suffix, or use a model made for code infilling (e.g. Qwen2.5-Coder, CodeLlama, StarCoder2).`,
        { param: "suffix", target, retryable: false, reason: UNSUPPORTED_BY_TARGET },
      );
    }
    const tokens = suffix === undefined ? promptTokens(loaded, request.completion, target) : undefined;
    // node-llama-cpp would cut a prompt longer than the window from its start, silently: the prompt,
    // a beginning token and one token of answer must fit (an infill that does not fit it refuses itself).
    if (tokens !== undefined && tokens.length + 2 > sequence.contextSize)
      throw overflowError("prompt", sequence.contextSize, target);
    emit({ type: "start", id: makeId("cmpl-"), model: loaded.spec.name });
    // The prompt is echoed as the model read it where that differs from the client's own text: with
    // its tokens' logprobs, or as ids decoded with the model's vocabulary.
    const ids = request.completion.tokens;
    if (tokens !== undefined && (echo === "logprobs" || (echo === "text" && ids !== undefined))) {
      const read = await echoPrompt(loaded, sequence, request, tokens, emit, signal);
      if (signal.aborted) throw canceledError(target);
      meterBefore = sequence.tokenMeter.getState();
      evaluatedWhole = request.completion.echo === "logprobs";
      if (request.maxTokens === 0) {
        emit({ type: "usage", usage: { inputTokens: read, outputTokens: 0, cachedInputTokens: 0 } });
        emit({ type: "finish", reason: "length" });
        return;
      }
    }
    logprobs?.attach(sequence);
    const options = {
      signal,
      stopOnAbortSignal: false,
      maxTokens: request.maxTokens,
      temperature: request.temperature ?? DEFAULT_TEMPERATURE,
      topP: request.topP,
      topK: request.topK,
      seed: samplingSeed(request.seed),
      grammar,
      ...penaltiesOf(request),
      customStopTriggers: request.stop && request.stop.length > 0 ? request.stop : undefined,
      // No context shift: the answer stops at the end of the window (maxTokens is cut to what is left)
      // rather than go on from a prompt with its start erased, and the whole window holds the prompt.
      disableContextShift: true,
      contextShiftSize: 0,
      onToken: (generated: Token[]) => {
        outputTokens += generated.length;
        released = generated;
      },
      onTextChunk: (text: string) => {
        if (!text) return;
        // node-llama-cpp swallows what a callback throws: the text must be sent whatever the logprobs do.
        let taken: TokenLogprob[] | undefined;
        try {
          taken = logprobs?.take(released, text);
        } catch {
          taken = undefined;
        }
        emit(taken && taken.length > 0 ? { type: "text-delta", text, logprobs: taken } : { type: "text-delta", text });
      },
    };
    const result: LlamaCompletionResponse =
      suffix === undefined
        ? await completion.generateCompletionWithMeta(tokens as Token[], options)
        : await completion.generateInfillCompletionWithMeta(prompt, suffix, options);
    if (signal.aborted) throw canceledError(target);
    // The answer's tokens are those of its text (a stop sequence's, generated and dropped, left out).
    const usage = usageOf(sequence, meterBefore, outputTokens, false);
    if (evaluatedWhole) usage.cachedInputTokens = 0;
    emit({ type: "usage", usage });
    const meta = result.metadata;
    const stopSequence = meta.stopReason === "customStopTrigger" ? meta.customStopTrigger.map(String).join("") : undefined;
    emit({ type: "finish", ...finishOf(meta.stopReason, false), stopSequence });
  } catch (err) {
    if (signal.aborted) throw canceledError(target);
    if (err instanceof GatewayError) throw err;
    throw mapError(err as Error, target);
  } finally {
    logprobs?.detach();
    completion.dispose({ disposeSequence: false });
    loaded.release(sequence);
  }
}

/**
 * The tokens a raw prompt without a suffix is given to LlamaCompletion as (which puts the model's
 * beginning token first when it wants one): a text's, its special-token texts read as those tokens
 * (as llama-server and Ollama read a raw prompt); or the client's ids, checked against the model's
 * vocabulary, less a beginning token they start with (LlamaCompletion's own takes its place), then
 * the text a continuation adds after them.
 */
/**
 * The tokens a raw prompt takes in the window as generateCompletion evaluates it: its own (the text,
 * or the ids as sent), with the beginning token the engine puts first when the model wants one; an
 * infill also its prefix, suffix and middle tokens. Not the chat template's count: a raw prompt is
 * never templated, so a prompt that fits is not refused as if it were.
 */
export function countCompletionTokens(loaded: LoadedModel, completion: CompletionPrompt, target: string): number {
  const beginning = beginningToken(loaded.model) === undefined ? 0 : 1;
  if (completion.suffix === undefined) return promptTokens(loaded, completion, target).length + beginning;
  const { model } = loaded;
  return model.tokenize(completion.prompt).length + model.tokenize(completion.suffix).length + 3 + beginning;
}

function promptTokens(loaded: LoadedModel, completion: CompletionPrompt, target: string): Token[] {
  const { model } = loaded;
  if (completion.tokens === undefined) return model.tokenize(completion.prompt, true);
  checkVocabulary(model, completion.tokens, target);
  const ids = completion.tokens as Token[];
  const bos = beginningToken(model);
  const own = bos !== undefined && ids[0] === bos ? ids.slice(1) : ids;
  return completion.tokensThen ? [...own, ...model.tokenize(completion.tokensThen, true)] : own;
}

/**
 * Reports the prompt as the model reads it, for `echo` (`prompt` events), and says how many tokens
 * that is. A text prompt is shown with the beginning token the engine put first (as a tokenizer
 * counts it, with no text); a prompt of ids as the client sent them (the first of them then has no
 * logprob, even when the engine put a beginning token before it). With `echo: "logprobs"` the prompt
 * is evaluated for its tokens' logprobs (see evaluatePrompt), each batch's tokens reported as it is
 * done, and the sequence holds the prompt for the answer; without, one event gives its text.
 */
async function echoPrompt(
  loaded: LoadedModel,
  sequence: LlamaContextSequence,
  request: CompletionRequest,
  tokens: readonly Token[],
  emit: (event: StreamEvent) => void,
  signal: AbortSignal,
): Promise<number> {
  const { model } = loaded;
  const bos = beginningToken(model);
  const read = bos === undefined ? [...tokens] : [bos, ...tokens];
  const ids = request.completion.tokens;
  // The client's ids are the read tokens less a beginning token the engine added before them.
  const skip = ids === undefined ? 0 : read.length - ids.length;
  const shown = read.slice(skip);
  const added = ids === undefined && bos !== undefined ? 1 : 0;
  const bytes = promptBytes(model, shown, added, ids === undefined ? request.completion.prompt : undefined);
  const decoder = new TextDecoder();
  if (request.completion.echo !== "logprobs") {
    emit({ type: "prompt", text: decoder.decode(new Uint8Array(bytes.flat())) });
    return read.length;
  }
  let sent = 0;
  let known: readonly PromptStep[] = [];
  /** Reports the shown tokens before `upTo` not reported yet: shown token i is read token i + skip, whose step is the one before. */
  const send = (upTo: number) => {
    if (upTo <= sent) return;
    const logprobs = [];
    for (let i = sent; i < upTo; i++)
      logprobs.push(promptTokenLogprob(model, shown, i, bytes[i] as number[], i === 0 ? undefined : known[i + skip - 1]));
    const text = decoder.decode(new Uint8Array(bytes.slice(sent, upTo).flat()), { stream: upTo < shown.length });
    emit({ type: "prompt", text, logprobs });
    sent = upTo;
  };
  const topLogprobs = request.logprobs?.topLogprobs ?? 0;
  await evaluatePrompt(
    sequence,
    read,
    topLogprobs,
    (steps) => {
      known = steps;
      send(Math.min(shown.length, steps.length + 1 - skip));
    },
    signal,
  );
  if (!signal.aborted) send(shown.length);
  return read.length;
}
