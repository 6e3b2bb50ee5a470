import type { StreamEvent } from "../core/index.js";

/** About how many characters a token is, for a throughput estimate (as the context's rough counts take it). */
const CHARS_PER_TOKEN = 4;

/**
 * An upstream's keep-alive, which says the connection is open but nothing of the answer: Anthropic's
 * `ping` event, reaching the router only as a same-wire `frame` (an OpenAI-compatible upstream's
 * `: keep-alive` comment lines never reach it). It is not progress, on any wire: it neither restarts
 * the idle limit nor counts towards the throughput floor.
 */
export function isKeepAlive(event: StreamEvent): boolean {
  if (event.type !== "frame") return false;
  return event.event === "ping" || (event.json as { type?: unknown } | undefined)?.type === "ping";
}

/**
 * About how many tokens of output an event carries, for the throughput floor: its text's length
 * in tokens (at least one for any text), since an upstream may send one token or hundreds in one
 * event. Events without output (the start, usage, the finish, the same-wire frames that repeat
 * what the canonical events already carried) count none.
 */
export function outputTokens(event: StreamEvent): number {
  let text: string;
  if (event.type === "text-delta" || event.type === "reasoning-delta") text = event.text;
  else if (event.type === "tool-call-delta") text = event.argumentsDelta;
  else return 0;
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
