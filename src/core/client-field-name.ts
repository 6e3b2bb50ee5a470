import type { NativeWire } from "./native.js";

/**
 * Settings an Ollama client sends by other names than chat completions' (which a warning gives them
 * otherwise): its Modelfile parameters under `options`, and its effort as `think`.
 */
const OLLAMA_OPTIONS: Readonly<Record<string, string>> = {
  stop: "options.stop",
  seed: "options.seed",
  temperature: "options.temperature",
  top_p: "options.top_p",
  top_k: "options.top_k",
  presence_penalty: "options.presence_penalty",
  frequency_penalty: "options.frequency_penalty",
  max_tokens: "options.num_predict",
  effort: "think",
};

/** What the Messages API calls the settings it has under other names. */
const ANTHROPIC_FIELDS: Readonly<Record<string, string>> = {
  stop: "stop_sequences",
  user: "metadata.user_id",
  effort: "output_config.effort",
};

/** What the Responses API calls the settings it has under other names. */
const RESPONSES_FIELDS: Readonly<Record<string, string>> = { effort: "reasoning.effort" };

/**
 * `effort`, an effort level the client named (unsentEffort: not a budget's level, nor a field of a
 * body tandem built, which keep their own names), is each wire's own effort field.
 */
const CHAT_FIELDS: Readonly<Record<string, string>> = { effort: "reasoning_effort" };

const FIELDS_OF: Readonly<Record<NativeWire, Readonly<Record<string, string>>>> = {
  "openai-chat": CHAT_FIELDS,
  "anthropic-messages": ANTHROPIC_FIELDS,
  "openai-responses": RESPONSES_FIELDS,
  "ollama-chat": OLLAMA_OPTIONS,
  "ollama-generate": OLLAMA_OPTIONS,
};

/**
 * A setting named by its chat completions name (`stop`, `seed`, `top_k`: how providers and the
 * redaction name what they left out) as the client's own wire names it, for x-tandem-warnings: an
 * Anthropic client's stop sequences are its `stop_sequences` and its end-user id `metadata.user_id`,
 * an Ollama client's sampling settings are `options.*` and its effort `think`, a Responses client's
 * effort `reasoning.effort`. The entry is the field, or the field and a note in
 * brackets (`temperature (1 sent instead)`), which is kept. Undefined `wire`: the request came
 * without the client's body (a harness composed it), and the chat completions name stands.
 */
export function clientFieldName(entry: string, wire: NativeWire | undefined): string {
  const names = FIELDS_OF[wire ?? "openai-chat"];
  // A field alone or with its note in brackets, or its value and a note (`effort max (xhigh sent
  // instead)`); a phrase (`stop sequences after the first 4`) is no field.
  const field = /^[a-z_]+(?=$| \(| [a-z]+ \()/.exec(entry)?.[0];
  const own = field === undefined ? undefined : names[field];
  return own === undefined ? entry : own + entry.slice(field?.length);
}
