import type { NativeWire } from "./native.js";

/**
 * Settings an Ollama client sends under `options` (its Modelfile parameters), by the names a warning
 * gives them otherwise (chat completions').
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
};

/** What the Messages API calls the settings it has under other names. */
const ANTHROPIC_FIELDS: Readonly<Record<string, string>> = { stop: "stop_sequences", user: "metadata.user_id" };

/**
 * A setting named by its chat completions name (`stop`, `seed`, `top_k`: how providers and the
 * redaction name what they left out) as the client's own wire names it, for x-tandem-warnings: an
 * Anthropic client's stop sequences are its `stop_sequences` and its end-user id `metadata.user_id`,
 * an Ollama client's sampling settings are `options.*`. The entry is the field, or the field and a note in
 * brackets (`temperature (1 sent instead)`), which is kept. Undefined `wire`: the request came
 * without the client's body (a harness composed it), and the chat completions name stands.
 */
export function clientFieldName(entry: string, wire: NativeWire | undefined): string {
  const names = wire === "anthropic-messages" ? ANTHROPIC_FIELDS : wire?.startsWith("ollama-") ? OLLAMA_OPTIONS : undefined;
  if (names === undefined) return entry;
  // A field alone or with its note in brackets; a phrase (`stop sequences after the first 4`) is no field.
  const field = /^[a-z_]+(?=$| \()/.exec(entry)?.[0];
  const own = field === undefined ? undefined : names[field];
  return own === undefined ? entry : own + entry.slice(field?.length);
}
