type Json = Record<string, unknown>;

/** A chunk's own fields that a completion does not take. */
const CHUNK_ONLY = new Set(["choices", "object", "obfuscation"]);

/**
 * Puts a chat completion's stream chunks (`chat.completion.chunk` objects, in order) together into
 * the `chat.completion` they make, as OpenAI's SDKs do: every choice, its text, refusal, reasoning
 * and tool calls, logprobs, usage and every other field kept. The chunks are read, never changed.
 */
export class ChatCompletionAssembler {
  #completion: Json | undefined;
  // By the upstream's index, in maps: an index is the upstream's word, and an array indexed by an
  // absurd one (3e9) would be billions of holes to walk and serialise.
  readonly #choices = new Map<number, Json>();
  readonly #calls = new Map<number, Map<number, Json>>();

  add(chunk: Json): void {
    if (this.#completion === undefined) {
      this.#completion = {};
      for (const key in chunk) if (!CHUNK_ONLY.has(key)) this.#completion[key] = chunk[key];
      this.#completion.object = "chat.completion";
    } else {
      for (const key in chunk) if (!CHUNK_ONLY.has(key) && chunk[key] != null) this.#completion[key] = chunk[key];
    }
    const pieces = chunk.choices;
    if (!Array.isArray(pieces)) return;
    for (const piece of pieces as Json[]) {
      // An upstream's word, read as it came: what is not a choice is not one.
      if (piece === null || typeof piece !== "object") continue;
      const index = typeof piece.index === "number" ? piece.index : 0;
      let choice = this.#choices.get(index);
      if (choice === undefined) {
        // The fields ChatCompletionMessage always has, as OpenAI's whole answer has them (an upstream that streams no refusal still has none).
        const message = { role: "assistant", content: null, refusal: null, annotations: [] };
        choice = { index, message, logprobs: null, finish_reason: null };
        this.#choices.set(index, choice);
        this.#calls.set(index, new Map());
      }
      if (piece.delta && typeof piece.delta === "object")
        mergeDelta(choice.message as Json, piece.delta as Json, this.#calls.get(index) as Map<number, Json>);
      if (piece.finish_reason != null) choice.finish_reason = piece.finish_reason;
      if (piece.logprobs != null) choice.logprobs = mergeLogprobs(choice.logprobs as Json | null, piece.logprobs as Json);
      // A choice's other fields (vLLM's stop_reason, OpenRouter's native_finish_reason): the latest
      // value, as the SDKs take it; null only until one comes.
      for (const key in piece) {
        if (key === "delta" || key === "index" || key === "finish_reason" || key === "logprobs") continue;
        if (piece[key] != null || !(key in choice)) choice[key] = piece[key];
      }
    }
  }

  /** The completion the chunks so far make (a new object each time); undefined before the first chunk. */
  completion(): Json | undefined {
    if (this.#completion === undefined) return undefined;
    const completion: Json = { ...this.#completion };
    const choices = new Map<number, Json>();
    for (const [index, choice] of this.#choices) {
      const message = { ...(choice.message as Json) };
      if ("tool_calls" in message) message.tool_calls = byIndex(this.#calls.get(index) as Map<number, Json>);
      choices.set(index, { ...choice, message });
    }
    completion.choices = byIndex(choices);
    return completion;
  }
}

/** What was kept by the upstream's index, in the index's order. */
function byIndex(items: Map<number, Json>): Json[] {
  return [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}

/** The fields of a streamed `audio` or `function_call` that come in pieces. */
const JOINED = new Set(["data", "transcript", "arguments"]);

/**
 * Text fields are concatenated, tool calls merged by index into `calls` (the message's `tool_calls`
 * is put in order from them at the end), anything else the latest value.
 */
function mergeDelta(message: Json, delta: Json, calls: Map<number, Json>): void {
  for (const key in delta) {
    const value = delta[key];
    if (key === "tool_calls" && Array.isArray(value)) {
      message.tool_calls ??= [];
      for (const [position, piece] of (value as Json[]).entries()) {
        if (piece === null || typeof piece !== "object") continue;
        const index = typeof piece.index === "number" ? piece.index : position;
        let call = calls.get(index);
        if (call === undefined) {
          // A custom tool's call streams its `custom` name and input as a function's streams `function`.
          const custom = piece.type === "custom" || piece.custom != null;
          call = custom
            ? { id: "", type: "custom", custom: { name: "", input: "" } }
            : { id: "", type: "function", function: { name: "", arguments: "" } };
          calls.set(index, call);
        }
        for (const [field, part] of Object.entries(piece)) {
          if (field === "index") continue;
          if ((field === "function" || field === "custom") && part && typeof part === "object") {
            call[field] ??= {};
            const fn = call[field] as Json;
            // The arguments (a custom tool's input) come in pieces; the name whole, and some servers
            // repeat it in every piece: the latest, as the SDKs take it.
            for (const [name, text] of Object.entries(part as Json)) {
              if (text == null) continue;
              const joined = (name === "arguments" || name === "input") && typeof fn[name] === "string";
              fn[name] = joined && typeof text === "string" ? fn[name] + text : text;
            }
          } else if (part != null) call[field] = part;
        }
      }
    } else if ((key === "audio" || key === "function_call") && value && typeof value === "object") {
      // Streamed in pieces as the SDKs join them: an audio answer's data and transcript, a legacy
      // call's arguments, each concatenated; its id, name and expiry the latest.
      message[key] ??= {};
      const into = message[key] as Json;
      for (const [field, part] of Object.entries(value as Json)) {
        if (part == null) continue;
        into[field] =
          JOINED.has(field) && typeof part === "string" && typeof into[field] === "string" ? into[field] + part : part;
      }
    } else if (typeof value === "string" && typeof message[key] === "string" && key !== "role") {
      message[key] += value;
    } else if (value != null || !(key in message)) {
      message[key] = value;
    }
  }
}

/** Logprobs of a stream: each list (`content`, `refusal`) concatenated. */
function mergeLogprobs(into: Json | null, piece: Json): Json {
  const out: Json = into ?? {};
  for (const [key, value] of Object.entries(piece)) {
    if (Array.isArray(value) && Array.isArray(out[key])) for (const item of value) (out[key] as unknown[]).push(item);
    // A list is copied: the pieces it came in are the provider's, read-only (see frameJson).
    else if (value != null || !(key in out)) out[key] = Array.isArray(value) ? [...value] : value;
  }
  return out;
}
