import {
  type ChatHistoryItem,
  type ChatModelFunctions,
  LlamaChat,
  type LlamaChatResponseChunk,
  type LlamaChatResponseFunctionCallParamsChunk,
  type LlamaContextSequence,
  type LlamaGrammar,
  type Token,
} from "node-llama-cpp";
import {
  budgetForEffort,
  type FinishReason,
  GatewayError,
  makeId,
  type ProviderChatRequest,
  type StreamEvent,
  type TokenLogprob,
  type ToolDefinition,
} from "../../../core/index.js";
import { canceledError } from "../cancellation.js";
import {
  forcedCallSchema,
  forcedTools,
  parseCutForcedCall,
  parseForcedCall,
  withForcedCallInstruction,
} from "./forced-tool-call.js";
import { jsonSchemaGrammar } from "./json-schema-grammar.js";
import type { LoadedModel } from "./model-host.js";
import { samplingSeed } from "./sampling-seed.js";
import { toChatHistory } from "./to-chat-history.js";
import { toGbnfSchema } from "./to-gbnf-schema.js";
import { TokenLogprobs } from "./token-logprobs.js";

/** Sampling defaults when the client sets none: llama.cpp's and Ollama's own. */
export const DEFAULT_TEMPERATURE = 0.8;

/**
 * Runs one chat request on a loaded model and reports it as canonical stream events: `start`, text
 * and tool-call events as the model writes them, `usage`, then `finish`. A canceled request throws
 * a canceled error; everything else node-llama-cpp throws becomes an upstream error.
 */
export async function generateChat(
  loaded: LoadedModel,
  request: ProviderChatRequest,
  signal: AbortSignal,
  emit: (event: StreamEvent) => void,
): Promise<void> {
  const { target, forced, history, functions } = chatPrompt(loaded, request);
  const grammar = forced ? await forcedCallGrammar(loaded, forced) : functions ? undefined : await grammarFor(loaded, request);
  // A request canceled while it waited (for the model, for a sequence) never touches a sequence.
  if (signal.aborted) throw canceledError(target);
  // The prompt's tokens as the chat will evaluate them: which held sequence serves it best.
  const sequence = await loaded.acquire(() => templatedTokens(loaded, history, functions));
  if (signal.aborted) {
    loaded.release(sequence);
    throw canceledError(target);
  }
  const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: loaded.chatWrapper, autoDisposeSequence: false });
  // Asked for, the tokens' logprobs go with the text they make up. A forced call's answer is no text
  // (the provider names logprobs as not sent for it), and a request that does not ask generates as before.
  const logprobs =
    request.logprobs !== undefined && !forced ? new TokenLogprobs(loaded.model, request.logprobs.topLogprobs ?? 0) : undefined;
  /** The tokens LlamaChat released with the text chunk that follows (onToken comes just before onTextChunk). */
  let released: readonly Token[] = [];
  const meterBefore = sequence.tokenMeter.getState();
  let outputTokens = 0;
  const calls = new Map<number, boolean>();
  /** Whether the model has written a thought segment, and any answer text yet. */
  let afterThought = false;
  let wroteText = false;
  /** A forced call's JSON as written so far: what of it stands when the end of the window cuts it. */
  let forcedText = "";
  // node-llama-cpp makes room in a full context by erasing the oldest turns (a "context shift"),
  // silently: a prompt larger than the window would be answered from what is left of it. tandem
  // never cuts a conversation without saying so: a prompt that does not fit fails as
  // context_length_exceeded (a route moves on to a target whose window fits), and an answer that
  // reaches the end of the window stops there, as truncated.
  const overflow = new AbortController();
  let overflowed: "prompt" | "answer" | undefined;
  const generation = AbortSignal.any([signal, overflow.signal]);
  const refuseContextShift = () => {
    overflowed ??= outputTokens === 0 ? "prompt" : "answer";
    overflow.abort();
    // Never used: the generation is aborted before anything else is evaluated.
    return { chatHistory: [] };
  };
  emit({ type: "start", id: makeId("chatcmpl-"), model: loaded.spec.name });
  try {
    logprobs?.attach(sequence);
    const common = {
      signal: generation,
      stopOnAbortSignal: false,
      contextShift: { strategy: refuseContextShift },
      maxTokens: request.maxTokens,
      temperature: request.temperature ?? DEFAULT_TEMPERATURE,
      topP: request.topP,
      topK: request.topK,
      seed: samplingSeed(request.seed),
      customStopTriggers: request.stop && request.stop.length > 0 ? request.stop : undefined,
      ...thoughtBudget(request),
      ...penaltiesOf(request),
      onTextChunk: (text: string) => {
        // A forced call's JSON is the call, not text: it is sent as a tool call once complete (or cut).
        if (forced) forcedText += text;
        if (!text || forced) return;
        // node-llama-cpp swallows what a callback throws: the text must be sent whatever the logprobs do.
        let tokens: TokenLogprob[] | undefined;
        try {
          tokens = logprobs?.take(released, text);
        } catch {
          tokens = undefined;
        }
        // The blank lines a thinking model writes between `</think>` and its answer are not the answer
        // (llama.cpp's server and Ollama leave them out too), nor are their tokens.
        if (afterThought && !wroteText) {
          text = text.trimStart();
          if (tokens) tokens = withoutLeadingBlanks(tokens);
        }
        if (!text) return;
        wroteText = true;
        emit(tokens && tokens.length > 0 ? { type: "text-delta", text, logprobs: tokens } : { type: "text-delta", text });
      },
      onToken: (tokens: Token[]) => {
        outputTokens += tokens.length;
        released = tokens;
      },
      // A thinking model's thought segments (which onTextChunk and onToken leave out) are its reasoning.
      onResponseChunk: (chunk: LlamaChatResponseChunk) => {
        if (chunk.type !== "segment") return;
        outputTokens += chunk.tokens.length;
        logprobs?.skip(chunk.tokens);
        if (chunk.segmentType !== "thought") return;
        afterThought = true;
        if (chunk.text) emit({ type: "reasoning-delta", text: chunk.text });
      },
    };
    const result = functions
      ? await chat.generateResponse(history, {
          ...common,
          functions,
          documentFunctionParams: true,
          maxParallelFunctionCalls: request.parallelToolCalls === false ? 1 : undefined,
          onFunctionCallParamsChunk: (chunk: LlamaChatResponseFunctionCallParamsChunk) => emitCallChunk(chunk, calls, emit),
        })
      : await chat.generateResponse(history, { ...common, grammar });
    if (signal.aborted) throw canceledError(target);
    if (overflowed) throw overflowError(overflowed, sequence.contextSize, target);
    const meta = result.metadata;
    const forcedCall = forced ? parseForcedCall(result.response) : undefined;
    if (forcedCall) emitForcedCall(forcedCall, emit);
    // Cut off by the client's token limit: the call as far as it was written, and `length`, as a
    // text answer cut off keeps its text (never no call at all, which reads as the model declining).
    else if (forced && meta.stopReason === "maxTokens") emitForcedCall(parseCutForcedCall(result.response, forced), emit);
    // Calls node-llama-cpp parsed without streaming their params (none expected, but never drop one).
    for (const [index, call] of (result.functionCalls ?? []).entries()) {
      if (calls.has(index)) continue;
      emit({ type: "tool-call-start", index, id: makeId("call_"), name: call.functionName });
      emit({ type: "tool-call-delta", index, argumentsDelta: JSON.stringify(call.params ?? {}) });
      emit({ type: "tool-call-end", index });
    }
    // A function call's tokens reach no onToken/onResponseChunk: the sequence's meter counted them
    // (without this a tool-call turn reported 0 output tokens, as Claude Code's runs showed).
    const called = (result.functionCalls?.length ?? 0) > 0;
    emit({ type: "usage", usage: usageOf(sequence, meterBefore, outputTokens, called) });
    const stopSequence = meta.stopReason === "customStopTrigger" ? meta.customStopTrigger.map(String).join("") : undefined;
    emit({ type: "finish", ...finishOf(meta.stopReason, called || forcedCall !== undefined), stopSequence });
  } catch (err) {
    if (signal.aborted) throw canceledError(target);
    if (overflowed === "answer") {
      if (forced) emitForcedCall(parseCutForcedCall(forcedText, forced), emit);
      finishAtWindowEnd(sequence, meterBefore, outputTokens, emit);
      return;
    }
    if (overflowed) throw overflowError(overflowed, sequence.contextSize, target);
    if (err instanceof GatewayError) throw err;
    throw mapError(err as Error, target);
  } finally {
    logprobs?.detach();
    chat.dispose({ disposeSequence: false });
    loaded.release(sequence);
  }
}

/** A forced call as the one tool call of the answer (a cut one's arguments may be empty, or JSON that does not close). */
function emitForcedCall(call: { name: string; arguments: string } | undefined, emit: (e: StreamEvent) => void): void {
  if (call === undefined) return;
  emit({ type: "tool-call-start", index: 0, id: makeId("call_"), name: call.name });
  if (call.arguments !== "") emit({ type: "tool-call-delta", index: 0, argumentsDelta: call.arguments });
  emit({ type: "tool-call-end", index: 0 });
}

/** A thinking model's answer without the blank tokens it starts with (its text is trimmed the same way). */
function withoutLeadingBlanks(tokens: TokenLogprob[]): TokenLogprob[] {
  const first = tokens.findIndex((t) => t.token.trim() !== "");
  return first < 0 ? [] : tokens.slice(first);
}

export function overflowError(overflowed: "prompt" | "answer", size: number, target: string): GatewayError {
  return new GatewayError(
    "context_length_exceeded",
    overflowed === "prompt"
      ? `The conversation does not fit ${target}'s ${size}-token context window`
      : `The answer filled ${target}'s ${size}-token context window`,
    { target, retryable: false },
  );
}

/** The answer ran to the end of the window: what was written stands, and the answer is truncated. */
function finishAtWindowEnd(
  sequence: LlamaContextSequence,
  meterBefore: ReturnType<LlamaContextSequence["tokenMeter"]["getState"]>,
  outputTokens: number,
  emit: (e: StreamEvent) => void,
): void {
  emit({ type: "usage", usage: usageOf(sequence, meterBefore, outputTokens, false) });
  emit({ type: "finish", reason: "length", raw: "contextFull" });
}

/**
 * The usage of one generation on `sequence`, from its token meter. Every token the sequence holds was
 * evaluated once: the prompt's (less those it already held from an earlier turn, which are cached),
 * then each generated token but the last one sampled, which nothing evaluates (an end-of-text token,
 * or the token that reached the limit). The meter counts an evaluation that produces a sample as
 * output, which makes the prompt's last token an output evaluation: so the prompt is what the
 * sequence holds less the generated tokens it holds (output evaluations less one). The meter's output
 * count includes the tokens of a stop sequence, generated and then dropped, which the text's own count
 * (`outputTokens`) leaves out. A raw prompt's completion (generate-completion.ts) is counted the same way.
 */
export function usageOf(
  sequence: LlamaContextSequence,
  meterBefore: ReturnType<LlamaContextSequence["tokenMeter"]["getState"]>,
  outputTokens: number,
  called: boolean,
): { inputTokens: number; outputTokens: number; cachedInputTokens: number } {
  const meterAfter = sequence.tokenMeter.getState();
  const sampled = meterAfter.usedOutputTokens - meterBefore.usedOutputTokens;
  const held = Math.max(0, sampled - 1);
  const inputTokens = Math.max(0, sequence.contextTokens.length - held);
  const evaluated = meterAfter.usedInputTokens - meterBefore.usedInputTokens + (sampled > 0 ? 1 : 0);
  return {
    inputTokens,
    outputTokens: called ? Math.max(outputTokens, sampled) : outputTokens,
    cachedInputTokens: Math.max(0, inputTokens - evaluated),
  };
}

function emitCallChunk(
  chunk: LlamaChatResponseFunctionCallParamsChunk,
  calls: Map<number, boolean>,
  emit: (e: StreamEvent) => void,
) {
  const index = chunk.callIndex;
  if (!calls.has(index)) {
    calls.set(index, true);
    emit({ type: "tool-call-start", index, id: makeId("call_"), name: chunk.functionName });
  }
  if (chunk.paramsChunk) emit({ type: "tool-call-delta", index, argumentsDelta: chunk.paramsChunk });
  if (chunk.done) emit({ type: "tool-call-end", index });
}

/** What a request puts before the model: its history in the model's chat form, and its tools as functions (or one forced call). */
function chatPrompt(loaded: LoadedModel, request: ProviderChatRequest) {
  const target = `local/${loaded.spec.name}`;
  const forced = forcedTools(request);
  const history = forced
    ? withForcedCallInstruction(toChatHistory(request.messages, target), forced)
    : toChatHistory(request.messages, target);
  const functions = !forced && request.tools && request.toolChoice !== "none" ? toFunctions(request) : undefined;
  return { target, forced, history, functions };
}

/**
 * The tokens a request's prompt comes to on this model, as generateChat would evaluate it: its
 * history and tools rendered by the model's chat template, with what the template adds (role
 * markers, the tool list, the opening of the answer). What count_tokens and input_tokens answer for
 * a local model, so that they agree with the usage the same request reports.
 */
export function countChatTokens(loaded: LoadedModel, request: ProviderChatRequest): number {
  const { history, functions } = chatPrompt(loaded, request);
  return templatedTokens(loaded, history, functions).length;
}

/** A history and its tools rendered by the model's chat template, as tokens. */
function templatedTokens(loaded: LoadedModel, history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): Token[] {
  const { contextText } = loaded.chatWrapper.generateContextState({
    chatHistory: history,
    availableFunctions: functions,
    documentFunctionParams: functions !== undefined,
  });
  return contextText.tokenize(loaded.model.tokenizer);
}

function toFunctions(request: ProviderChatRequest): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  const only = typeof request.toolChoice === "object" ? request.toolChoice.name : undefined;
  for (const tool of request.tools ?? []) {
    if (only && tool.name !== only) continue;
    const params = Object.keys(tool.parameters ?? {}).length > 0 ? toGbnfSchema(tool.parameters) : undefined;
    functions[tool.name] = { description: tool.description, params };
  }
  return functions;
}

async function forcedCallGrammar(loaded: LoadedModel, tools: readonly ToolDefinition[]): Promise<LlamaGrammar> {
  try {
    return await jsonSchemaGrammar(loaded.model.llama, forcedCallSchema(tools));
  } catch (err) {
    throw new GatewayError("invalid_request", `The tools' schemas cannot be turned into a grammar: ${(err as Error).message}`, {
      param: "tools",
    });
  }
}

export async function grammarFor(loaded: LoadedModel, request: ProviderChatRequest): Promise<LlamaGrammar | undefined> {
  const format = request.responseFormat;
  if (!format || format.type === "text") return undefined;
  const llama = loaded.model.llama;
  try {
    if (format.type === "json") return await llama.getGrammarFor("json");
    return await jsonSchemaGrammar(llama, toGbnfSchema(format.schema));
  } catch (err) {
    throw new GatewayError("invalid_request", `The JSON schema cannot be turned into a grammar: ${(err as Error).message}`, {
      param: format.type === "json_schema" ? (format.param ?? "response_format") : "response_format",
    });
  }
}

export function finishOf(stopReason: string, calledTools: boolean): { reason: FinishReason; raw: string } {
  if (calledTools || stopReason === "functionCalls") return { reason: "tool_calls", raw: stopReason };
  if (stopReason === "maxTokens") return { reason: "length", raw: stopReason };
  return { reason: "stop", raw: stopReason };
}

/** node-llama-cpp's errors are plain Errors; the context-window one is the only one a client can fix. */
export function mapError(err: Error, target: string): GatewayError {
  const message = err.message ?? String(err);
  if (/context size|does not fit|too long|context shift/i.test(message)) {
    return new GatewayError("context_length_exceeded", `The conversation does not fit ${target}'s context window: ${message}`, {
      target,
      retryable: false,
    });
  }
  return new GatewayError("upstream_error", `${target} failed: ${message}`, { target });
}

/**
 * The reasoning control as node-llama-cpp's thought budget: off is 0, a budget as given, an effort as
 * Anthropic's budget for it; "on" alone keeps the engine's default (a share of the context).
 */
/**
 * The presence and frequency penalties, as llama.cpp applies them (Ollama's and llama-server's
 * `presence_penalty`, `frequency_penalty`): over the last 64 tokens, beside node-llama-cpp's default
 * repeat penalty, which is left as it is. Without either, node-llama-cpp's defaults apply unchanged.
 */
export function penaltiesOf(request: ProviderChatRequest): {
  repeatPenalty?: { presencePenalty?: number; frequencyPenalty?: number };
} {
  const { presencePenalty, frequencyPenalty } = request;
  if (presencePenalty === undefined && frequencyPenalty === undefined) return {};
  return {
    repeatPenalty: {
      ...(presencePenalty !== undefined && { presencePenalty }),
      ...(frequencyPenalty !== undefined && { frequencyPenalty }),
    },
  };
}

function thoughtBudget(request: ProviderChatRequest): { budgets?: { thoughtTokens: number } } {
  const control = request.reasoning;
  // Adaptive thinking leaves it to the model: the engine's default.
  if (control === undefined || control.adaptive) return {};
  if (!control.enabled) return { budgets: { thoughtTokens: 0 } };
  if (control.budgetTokens !== undefined) return { budgets: { thoughtTokens: control.budgetTokens } };
  if (control.effort !== undefined) return { budgets: { thoughtTokens: budgetForEffort(control.effort) } };
  return {};
}
