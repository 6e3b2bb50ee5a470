import { jsonObjectText } from "./json-text-edit.js";
import type { ChatRequest } from "./request.js";

/*
 * A call's arguments are the model's JSON text (ToolCall.arguments); Anthropic's `input` and
 * Ollama's `arguments` must be objects. Text that is not one JSON object (a forced call cut off by
 * max_output_tokens, `{"x":"trunc`) cannot go as it is, and is never dropped unsaid.
 */

/**
 * The key of the object that carries, as their text, a history call's arguments that are not one
 * JSON object, for a wire whose call input must be an object. An underscore, as no tool's own
 * parameter is likely to be named so.
 */
export const RAW_ARGUMENTS_KEY = "_raw_arguments";

/**
 * A history call's arguments as the object a wire that takes an object is sent: the object they are;
 * `{}` for none (empty text: a call without arguments, as some models write it); else their text
 * under RAW_ARGUMENTS_KEY, so that the model reads what the call was, and why its result may say it
 * failed, rather than a call that seems to have had no arguments. Named by unsentCallArguments.
 */
export function argumentsObject(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Falls through: not JSON.
  }
  return { [RAW_ARGUMENTS_KEY]: text };
}

/**
 * The calls of a conversation whose arguments are not one JSON object, each named for
 * `x-tandem-warnings` ("... not sent to <target>") by a provider whose wire takes objects
 * (ChatProvider.unsent): what it is sent instead is argumentsObject's.
 */
export function unsentCallArguments(request: ChatRequest): string[] {
  const out: string[] = [];
  for (const message of request.messages) {
    if (message.role !== "assistant" || message.toolCalls === undefined) continue;
    for (const call of message.toolCalls) {
      if (call.arguments.trim() === "" || jsonObjectText(call.arguments) !== undefined) continue;
      out.push(
        `arguments of call ${call.id} as written (not a JSON object: their text sent as {"${RAW_ARGUMENTS_KEY}": "..."} instead)`,
      );
    }
  }
  return out;
}
