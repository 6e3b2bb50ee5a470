import type { StreamEvent } from "../../core/index.js";

/**
 * The in-band mark of a mid-stream switch for SSE dialects (OpenAI, Anthropic): a comment line, which
 * every SSE parser skips, so the client's stream stays exactly the API's own event sequence.
 */
export function switchComment(event: Extract<StreamEvent, { type: "switch" }>): string {
  return `: tandem switched from ${event.from} to ${event.to} after ${event.reason}; the answer continues\n\n`;
}
