import { type ChatResult, JsonSplice, type ResponseMeta } from "../../core/index.js";
import { hasRedactedThinking, noteUncarriedPart, REDACTED_THINKING, type RequestRecord } from "../shared/index.js";
import { argumentsJson, ollamaFinalFields } from "./ollama-final-fields.js";
import type { OllamaAssistantMessageOut } from "./ollama-server-api.js";
import type { OllamaAnswerOptions } from "./ollama-stream-renderer.js";
import { ollamaLogprobsField } from "./render-ollama-logprobs.js";

/**
 * The non-streamed /api/chat answer: the whole message (and its tokens' logprobs, when asked) plus
 * the final fields. With tool calls, its JSON text, each call's arguments spliced in as written.
 */
export function renderOllamaChatResponse(
  result: ChatResult,
  meta: ResponseMeta,
  record: RequestRecord,
  options: OllamaAnswerOptions = {},
): unknown {
  const message: OllamaAssistantMessageOut = { role: "assistant", content: result.text };
  if (options.think && result.reasoning) message.thinking = result.reasoning;
  noteRedactedThinking(result, meta, options);
  const splice = result.toolCalls.length > 0 ? new JsonSplice() : undefined;
  if (splice !== undefined) {
    message.tool_calls = result.toolCalls.map((call, index) => ({
      id: call.id,
      function: { index, name: call.name, arguments: splice.hold(argumentsJson(call.arguments)) },
    }));
  }
  const answer = {
    model: meta.target,
    created_at: new Date().toISOString(),
    message,
    ...ollamaLogprobsField(options.logprobs ? result.logprobs : undefined),
    ...ollamaFinalFields(result.finishReason, result.usage, meta, record, result.loadMs),
  };
  return splice === undefined ? answer : splice.body(answer);
}

/** The non-streamed /api/generate answer. `context` is left out: no target returns engine tokens. */
export function renderOllamaGenerateResponse(
  result: ChatResult,
  meta: ResponseMeta,
  record: RequestRecord,
  options: OllamaAnswerOptions = {},
): unknown {
  noteRedactedThinking(result, meta, options);
  return {
    model: meta.target,
    created_at: new Date().toISOString(),
    response: result.text,
    ...(options.think && result.reasoning ? { thinking: result.reasoning } : {}),
    ...ollamaFinalFields(result.finishReason, result.usage, meta, record, result.loadMs),
    // Last, where Ollama's GenerateResponse has it.
    ...ollamaLogprobsField(options.logprobs ? result.logprobs : undefined),
  };
}

/**
 * Anthropic's redacted thinking has nothing readable and no field in Ollama's answer: where the
 * client asked to see thinking, it is named in the warnings (before the final fields list them).
 */
function noteRedactedThinking(result: ChatResult, meta: ResponseMeta, options: OllamaAnswerOptions): void {
  if (options.think && hasRedactedThinking(result)) noteUncarriedPart(meta, REDACTED_THINKING);
}

/**
 * Ollama's answer to an empty request (no messages, or an empty prompt): it loads the model and
 * says so. Nothing is loaded for a routed target, but clients use this to check a model is usable.
 */
export function renderOllamaLoadResponse(model: string, kind: "chat" | "generate", unload = false): unknown {
  const head = kind === "chat" ? { message: { role: "assistant", content: "" } } : { response: "" };
  return { model, created_at: new Date().toISOString(), ...head, done_reason: unload ? "unload" : "load", done: true };
}
