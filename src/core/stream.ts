import type { HostedToolItem } from "./hosted-tools.js";
import type { PromptTokenLogprob, TokenLogprob } from "./logprobs.js";

/** The canonical stream: what a provider yields and what a dialect renders. Keyed on `type`. */

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from a prompt cache (part of inputTokens), where the upstream reports them. */
  cachedInputTokens?: number;
  /** Input tokens written to a prompt cache (part of inputTokens; Anthropic's cache_creation_input_tokens), where reported and not 0. */
  cacheWriteInputTokens?: number;
  /** Output tokens spent on reasoning (part of outputTokens; OpenAI's reasoning_tokens), where reported and not 0. */
  reasoningTokens?: number;
}

/**
 * Why generation stopped, unified across APIs. `raw` keeps the upstream's own value
 * (e.g. Anthropic `end_turn`, Ollama `stop`) so nothing is lost. `length` is also the answer tandem's
 * tool loop cut at its limit (raw TOOL_LIMIT_FINISH), which is no more finished than one cut at
 * max_tokens.
 */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "other";

/**
 * The `raw` finish of an answer the tool loop ended at its limit (rounds, or `max_tool_calls`) while
 * the model still called its tools: `length` for the wires that have no item for the calls, and a
 * completed Response for the Responses API, whose failed `mcp_call` says what was not run (as OpenAI
 * ignores calls past `max_tool_calls`).
 */
export const TOOL_LIMIT_FINISH = "tool_limit";

export type StreamEvent =
  /**
   * First event of every stream: the upstream's response id and the model it says answered. `loadMs`:
   * how long this request waited for the model to be loaded before it was answered (a local engine
   * that was not holding it; Ollama's `load_duration`), where the target knows.
   */
  | { type: "start"; id?: string; model?: string; loadMs?: number }
  /**
   * A piece of the answer's text. `refusal`: the model declined, and this is its refusal (OpenAI's
   * `refusal`, a Responses `refusal` part): text all the same, for APIs with no place for a refusal;
   * not an answer for checks that read the text (a JSON format, an empty answer). `logprobs`: the
   * log probabilities of the tokens this piece is made of, in order, where the request asked for them
   * (ChatRequest.logprobs) and the upstream reported them; the text may be empty when an upstream
   * reports tokens before the text they make (a character split across tokens).
   */
  | { type: "text-delta"; text: string; refusal?: true; logprobs?: TokenLogprob[] }
  /**
   * The prompt as the target read it, before any text, where the client asked for it echoed
   * (CompletionPrompt.echo) and the target reads prompts as tokens of its own (the embedded engine):
   * its text (a prompt of token ids decoded with the model's vocabulary), and with `echo: "logprobs"`
   * each token's log probability given those before it. Not part of the answer's text. It may come
   * in pieces (a long prompt's as it is evaluated): their texts and tokens run on, in order.
   */
  | { type: "prompt"; text: string; logprobs?: PromptTokenLogprob[] }
  /**
   * A piece of the model's reasoning as readable text (Anthropic thinking, a Responses reasoning
   * summary, `reasoning_content`), where the upstream shows it. Not part of the answer's text.
   */
  | { type: "reasoning-delta"; text: string }
  /**
   * The reasoning so far ends as one block signed by its upstream (Anthropic's `signature_delta`): only
   * that provider can read the signature back. Reasoning after it is a new block.
   */
  | { type: "reasoning-signature"; signature: string }
  /** A reasoning block the upstream shows only encrypted (Anthropic's `redacted_thinking` `data`). */
  | { type: "reasoning-redacted"; data: string }
  /**
   * The reasoning so far ends as one item its upstream sealed (a Responses reasoning item's
   * `encrypted_content`): only `producer` (the target that made it, `provider/model`) can read it
   * back, in a later turn's history. Reasoning after it is a new block.
   */
  | { type: "reasoning-encrypted"; data: string; producer: string }
  /**
   * A part of the upstream's answer the canonical events do not carry, by the upstream's own name for
   * it (an Anthropic text block's `citations`, a `server_tool_use` block, an OpenAI `annotations`
   * list, a Responses `web_search_call` item). The same-wire path's frames carry it as it came; an
   * answer rendered from the canonical events names it in its notices (ResponseMeta.notices), so that
   * nothing is dropped silently. A reader yields each part once per answer.
   */
  | { type: "untranslated"; part: string }
  /** A tool call begins. `index` orders calls within this response (0, 1, ...). */
  | { type: "tool-call-start"; index: number; id: string; name: string }
  /** A piece of the call's JSON arguments text. */
  | { type: "tool-call-delta"; index: number; argumentsDelta: string }
  | { type: "tool-call-end"; index: number }
  /** Usage may arrive in pieces (Anthropic sends input first, output last); later values win per field. */
  | { type: "usage"; usage: Partial<Usage> }
  /**
   * Last event of every successful stream. `unframed`: the router's own finish, which no frame of the
   * upstream's carries (an answer that broke off when the client's output limit was spent, ended as
   * cut by it: router/continuation.ts): a dialect writing the target's own frames (the same-wire path)
   * closes what they left open and renders it, as after a mid-stream `switch`.
   */
  | { type: "finish"; reason: FinishReason; raw?: string; stopSequence?: string; unframed?: true }
  /**
   * The router's, never a provider's: the answer broke on `from` and continues on `to`. With
   * `restart`, `to` answers afresh and everything before this event is to be discarded (only ever
   * sent to a client that did not stream); without it, `to` was given the text so far and goes on.
   * Dialects mark a continuation in-band where their framing allows (an SSE comment). `warnings`:
   * what of the client's request `to` was not sent (its headers were written for `from`).
   */
  | { type: "switch"; from: string; to: string; reason: string; restart?: boolean; warnings?: string[] }
  /**
   * One frame of the upstream's own answer, on the same-wire path (request.native): yielded after the
   * canonical events read from it, so checks on those run before it can reach the client. SSE:
   * `event` and `data`; a whole (non-streamed) answer: its JSON text as `data`, with `whole`.
   * Dialects that render canonical events ignore it. `json`: `data` as the provider already parsed it,
   * when it did, so a dialect that reads the frame need not parse it again; it is shared, read-only.
   */
  | { type: "frame"; event?: string; data: string; whole?: boolean; json?: unknown }
  /**
   * The harness's, never a provider's: a tool tandem ran for the model between its turns (see
   * hosted-tools.ts), sent when it starts and again when it ends. The text after it is the model's
   * next turn. Dialects with no place for such items ignore them.
   */
  | { type: "hosted-tool"; item: HostedToolItem };

export type StreamEventType = StreamEvent["type"];

/**
 * One answer's namer of the parts the canonical events do not carry: pushes an `untranslated` event
 * for a part the first time it is named, and nothing after (a reader yields each part once per answer).
 */
export function untranslatedParts(): (part: string, out: StreamEvent[]) => void {
  // Made with the first part: most answers name none.
  let named: Set<string> | undefined;
  return (part, out) => {
    if (named?.has(part)) return;
    named ??= new Set();
    named.add(part);
    out.push({ type: "untranslated", part });
  };
}
