import type { ErrorMeta, ResponseMeta } from "../../core/index.js";

/** The `x-tandem-*` response headers of DESIGN.md. */
export function metaHeaders(meta: ResponseMeta): Record<string, string> {
  const headers: Record<string, string> = {
    "x-tandem-target": headerText(meta.target),
    "x-tandem-attempts": String(meta.attempts),
    // The reason quotes upstreams' error messages (an em dash, a cut message's ellipsis, a page's
    // control characters): a header cannot carry those, and Node throws on the whole answer if it tries.
    "x-tandem-degraded": meta.degraded === undefined ? "false" : `true; ${headerText(meta.degraded)}`,
  };
  if (meta.route !== undefined) headers["x-tandem-route"] = headerText(meta.route);
  if (meta.sensitivity !== undefined) headers["x-tandem-sensitivity"] = meta.sensitivity;
  // As the Responses dialect writes it: entries joined by `; `, each headerSafe.
  const warnings = metaWarnings(meta);
  if (warnings.length > 0) headers["x-tandem-warnings"] = warningsHeader(warnings);
  if (meta.tools !== undefined && meta.tools.length > 0) headers["x-tandem-tools"] = meta.tools.map(headerSafe).join("; ");
  if (meta.memory !== undefined && meta.memory.length > 0) headers["x-tandem-memory"] = meta.memory.map(headerSafe).join(", ");
  return headers;
}

/** The `x-tandem-*` headers of an error answer the router gave: the route, the last target tried, the attempts made. */
export function errorMetaHeaders(meta: ErrorMeta): Record<string, string> {
  const headers: Record<string, string> = { "x-tandem-attempts": String(meta.attempts) };
  if (meta.route !== undefined) headers["x-tandem-route"] = headerText(meta.route);
  if (meta.target !== undefined) headers["x-tandem-target"] = headerText(meta.target);
  return headers;
}

/**
 * The answer's own warnings as `x-tandem-warnings` entries: each field, and the target it was not
 * sent to; then its notices as they are (the tool loop's limit).
 */
export function metaWarnings(meta: Pick<ResponseMeta, "warnings" | "notices" | "target">): string[] {
  return [
    ...(meta.warnings ?? []).map((field) => headerSafe(`${field} not sent to ${meta.target}`)),
    ...(meta.notices ?? []).map(headerSafe),
  ];
}

/**
 * The most characters of `x-tandem-warnings`: clients read every header of an answer within a bound
 * of their own (16 KiB in all for undici, Node's fetch, under every official SDK), past which they
 * drop the whole answer; a request can name any number of fields that cannot cross.
 */
export const MAX_WARNINGS_HEADER = 4096;

/**
 * Entries (each headerSafe) as the `x-tandem-warnings` value: joined by `; ` while they fit in
 * MAX_WARNINGS_HEADER, then how many more there were (the server log has them all).
 */
export function warningsHeader(entries: readonly string[]): string {
  let out = "";
  for (let i = 0; i < entries.length; i++) {
    const next = out === "" ? (entries[i] as string) : `${out}; ${entries[i]}`;
    // Room kept for the count of what is not listed.
    if (next.length > MAX_WARNINGS_HEADER - 40) return `${out}; ${entries.length - i} more not listed`;
    out = next;
  }
  return out;
}

/**
 * One entry of a `; `-separated header (x-tandem-warnings), from words a client or an upstream chose
 * (item and tool types, field names): printable ASCII only, no separators, at most 300 characters.
 */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]|;/g, "?").slice(0, 300);
}

/** Text as a header value: printable ASCII, anything else `?` (names and ids from config or an upstream's model list too). */
function headerText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

/**
 * Adds `notice` to the answer's notices (ResponseMeta.notices: `x-tandem-warnings`, or the end of a
 * stream whose headers have left) unless it is there already; whether it was added.
 */
export function addNotice(meta: Pick<ResponseMeta, "notices">, notice: string): boolean {
  if (meta.notices?.includes(notice)) return false;
  meta.notices = [...(meta.notices ?? []), notice];
  return true;
}
