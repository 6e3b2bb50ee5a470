import type { StreamEvent } from "../../core/index.js";

/**
 * The in-band mark of a mid-stream switch for SSE dialects (OpenAI, Anthropic): a comment line, which
 * every SSE parser skips, so the client's stream stays exactly the API's own event sequence.
 */
export function switchComment(event: Extract<StreamEvent, { type: "switch" }>): string {
  // What the new target was not sent: the x-tandem-warnings of a stream whose headers are gone.
  const warnings = event.warnings?.length
    ? `; not sent to ${event.to}: ${event.warnings.join(", ").replace(/[\r\n]/g, " ")}`
    : "";
  return `: tandem switched from ${event.from} to ${event.to} after ${event.reason}; the answer continues${warnings}\n\n`;
}

/**
 * What a stream must be warned of that came after its headers had left (ResponseMeta.notices: the
 * tool loop stopped at its limit), for SSE dialects: a comment line before the stream's end, as the
 * switch is marked, so the client's parser sees only the API's own events.
 */
export function noticesComment(notices: readonly string[]): string {
  return notices.map((notice) => `: tandem warning: ${notice.replace(/[\r\n]/g, " ")}\n\n`).join("");
}
