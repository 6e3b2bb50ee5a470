/**
 * Same-wire pass-through: what a dialect keeps of the client's own request, so a target that speaks
 * the same wire format can be sent the client's body as it came (see README "Same-wire pass-through").
 */

import type { Message } from "./messages.js";

/**
 * A wire format a dialect parses and a provider can speak as it is. `openai-responses`: OpenAI's
 * Responses API, sent with the history tandem holds and `store: false` (the state stays here).
 */
export type NativeWire = "anthropic-messages" | "openai-chat" | "openai-responses" | "ollama-chat" | "ollama-generate";

/** The client's request as it came, kept beside its canonical form. */
export interface NativeRequest {
  wire: NativeWire;
  /** The client's parsed JSON body, every field in its order (never modified: providers copy it). */
  body: Record<string, unknown>;
  /**
   * The body's JSON text as the client sent it, when `body` is exactly its parse: a provider edits
   * the fields it must change in this text (core/json-text-edit.ts), so every other byte reaches the
   * upstream as written (number formats, spacing, escapes). Absent for a large body, or one the
   * dialect or the router changed (redaction); then `body` is serialised.
   */
  text?: string;
  /** The client's beta and version headers to forward (`anthropic-beta`, `anthropic-version`, `OpenAI-Beta`), names lower-cased. */
  headers: Record<string, string>;
  /**
   * What of the body cannot cross to a target on another wire (field names such as `thinking`,
   * `cache_control`), for the `x-tandem-warnings` header. Called only when the body does not cross.
   */
  lost: () => string[];
  /**
   * What the dialect left out of `body` even for a target on its own wire, named for
   * `x-tandem-warnings` (thinking blocks no Anthropic upstream signed, which Anthropic refuses).
   */
  dropped?: string[];
  /**
   * What of the body the canonical form cannot express and only a target on this wire can be sent
   * (`n` > 1, a custom tool, an Anthropic server tool, a document only the upstream can open...), each
   * named by its field. A target on another wire cannot serve the request (the router skips it, see
   * router/target-fit.ts), and a request no target on the wire can take is refused naming the first.
   */
  wireOnly?: WireOnly[];
  /**
   * How many parts besides `wireOnly`'s carry content inline that privacy classification cannot
   * read (a PDF or audio clip in a stored Responses history: a target on this wire is sent it as
   * stored, a target on another wire is given the conversation without it; an Ollama `/api/generate`
   * `context`, an earlier exchange as token ids). They count as `WireOnly.unread` parts do. Default 0.
   */
  unread?: number;
  /**
   * What the body becomes for one target (`provider/model`), called by the provider that sends it:
   * for what only some upstreams can read (another provider's encrypted reasoning). `body` is the one
   * the provider was given (redacted, where the route redacts). Default: the body as it is.
   */
  bodyFor?: (body: Record<string, unknown>, target: string) => Record<string, unknown>;
  /**
   * The body with only the messages whose canonical form (ChatRequest.messages, as the dialect made
   * them) is in `kept`, each as the client wrote it (its `name`, a `developer` role, fields tandem
   * does not know): a conversation fitted to a window goes to a target on this wire as the client's
   * own body with whole messages cut out, rather than rebuilt. Undefined when some kept message is
   * not one of the body's (a summary put in), or the wire cannot cut its body so. Default: absent.
   */
  keepingMessages?: (kept: ReadonlySet<Message>) => Record<string, unknown> | undefined;
}

/** A part of a client's body that cannot cross to another wire (see NativeRequest.wireOnly). */
export interface WireOnly {
  /** The field, as the client wrote it (`n`, `tools[0]`, `messages[2].content[0]`). */
  param: string;
  /** What it is, for people (`n: 2`, `web_search_20250305 tool`). */
  what: string;
  /**
   * Content sent inline that privacy classification cannot read (a PDF's, an audio clip's or a
   * file's bytes): it counts as an image does (`privacy.imagesArePrivate`), never as nothing.
   */
  unread?: true;
}

/** The beta and version headers of a client request, lower-cased, that a same-wire target is given. */
export function nativeHeaders(
  headers: Record<string, string | string[] | undefined>,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return out;
}
