import { LlamaCompletion, type LlamaCompletionResponse, type LlamaContextSequence, type Token } from "node-llama-cpp";
import {
  type CompletionPrompt,
  GatewayError,
  makeId,
  type ProviderChatRequest,
  type StreamEvent,
  type TokenLogprob,
} from "../../../core/index.js";
import { canceledError } from "../cancellation.js";
import { DEFAULT_TEMPERATURE, finishOf, grammarFor, mapError, overflowError } from "./generate-chat.js";
import type { LoadedModel } from "./model-host.js";
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
  const { prompt, suffix } = request.completion;
  const grammar = await grammarFor(loaded, request);
  if (signal.aborted) throw canceledError(target);
  const sequence = await loaded.acquire();
  if (signal.aborted) {
    loaded.release(sequence);
    throw canceledError(target);
  }
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  const logprobs =
    request.logprobs === undefined ? undefined : new TokenLogprobs(loaded.model, request.logprobs.topLogprobs ?? 0);
  let released: readonly Token[] = [];
  let outputTokens = 0;
  const meterBefore = sequence.tokenMeter.getState();
  try {
    if (suffix !== undefined && !completion.infillSupported) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for 'suffix': ${target} has no fill-in-the-middle tokens, so it cannot fill in the middle; send no suffix, or use a model made for code infilling (e.g. Qwen2.5-Coder, CodeLlama, StarCoder2).`,
        { param: "suffix", target, retryable: false },
      );
    }
    // A raw prompt's special-token texts are those tokens (as llama-server and Ollama read a raw prompt).
    const tokens = suffix === undefined ? loaded.model.tokenize(prompt, true) : undefined;
    // node-llama-cpp would cut a prompt longer than the window from its start, silently: the prompt,
    // a beginning token and one token of answer must fit (an infill that does not fit it refuses itself).
    if (tokens !== undefined && tokens.length + 2 > sequence.contextSize)
      throw overflowError("prompt", sequence.contextSize, target);
    emit({ type: "start", id: makeId("cmpl-"), model: loaded.spec.name });
    logprobs?.attach(sequence);
    const options = {
      signal,
      stopOnAbortSignal: false,
      maxTokens: request.maxTokens,
      temperature: request.temperature ?? DEFAULT_TEMPERATURE,
      topP: request.topP,
      topK: request.topK,
      seed: request.seed,
      grammar,
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
    emit({ type: "usage", usage: completionUsage(sequence, meterBefore, outputTokens) });
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
 * The usage of one completion on `sequence`. Each decode reads one position's logits, which the meter
 * counts as an output token: every token sampled (the end-of-text one too). The sequence holds the
 * prompt and every sampled token but the last (which is never evaluated), so the prompt is what it
 * holds less that; of the prompt, the tokens not evaluated again (all but the one whose logits were
 * read) were cached from an earlier request on the sequence. The answer's tokens are those of its
 * text (a stop sequence's, generated and dropped, left out).
 */
function completionUsage(
  sequence: LlamaContextSequence,
  meterBefore: ReturnType<LlamaContextSequence["tokenMeter"]["getState"]>,
  outputTokens: number,
): { inputTokens: number; outputTokens: number; cachedInputTokens: number } {
  const meterAfter = sequence.tokenMeter.getState();
  const sampled = meterAfter.usedOutputTokens - meterBefore.usedOutputTokens;
  const inputTokens = Math.max(0, sequence.contextTokens.length - Math.max(0, sampled - 1));
  const evaluated = meterAfter.usedInputTokens - meterBefore.usedInputTokens + 1;
  return { inputTokens, outputTokens, cachedInputTokens: Math.max(0, inputTokens - evaluated) };
}
