import { STATUS_CODES } from "node:http";

/**
 * The reason phrase of the statuses tandem answers that Node does not know: Anthropic's 529 (an
 * overload, which its clients retry). Node writes a status line with the phrase STATUS_CODES gives,
 * and `unknown` when it gives none (`HTTP/1.1 529 unknown`). Added once, before any server answers;
 * a phrase Node already has is kept.
 */
export function addStatusReasons(): void {
  STATUS_CODES[529] ??= "Site is overloaded";
}
