import { type Message, textOf } from "./messages.js";

/**
 * The system line a conversation in OpenAI's JSON mode is sent with when it never says "json"
 * (withJsonModeWord).
 */
export const JSON_MODE_LINE = "Respond with a single valid JSON value.";

/**
 * A conversation for OpenAI's JSON mode (chat `response_format: {type: "json_object"}`, the Responses
 * API's `text.format` of that type), which api.openai.com refuses unless some message says "json"
 * ("'messages' must contain the word 'json' in some form, to use 'response_format' of type
 * 'json_object'."). An OpenAI client hears that rule from its own API and writes the word; a client
 * of an API without it does not (Ollama's `format: "json"` needs nothing more). A conversation that
 * never says it gets a line that does (JSON_MODE_LINE), as LiteLLM and other gateways add one: at the
 * end of a leading system message, else as a system message of its own before the rest (some
 * OpenAI-compatible servers take a system message only first). One that says it is returned as it is.
 */
export function withJsonModeWord(messages: readonly Message[]): readonly Message[] {
  if (messages.some(saysJson)) return messages;
  const [first, ...rest] = messages;
  if (first?.role === "system") return [{ role: "system", content: `${first.content}\n\n${JSON_MODE_LINE}` }, ...rest];
  return [{ role: "system", content: JSON_MODE_LINE }, ...messages];
}

/** Whether a message's text has "json" in it, in any case (OpenAI's check reads the word in any form). */
function saysJson(message: Message): boolean {
  const text = message.role === "system" ? message.content : textOf(message.content);
  return /json/i.test(text);
}
