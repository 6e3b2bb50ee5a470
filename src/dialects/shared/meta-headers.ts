import type { ResponseMeta } from "../../core/index.js";

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
  if (meta.warnings !== undefined && meta.warnings.length > 0) {
    headers["x-tandem-warnings"] = meta.warnings.map((field) => headerSafe(`${field} not sent to ${meta.target}`)).join("; ");
  }
  if (meta.tools !== undefined && meta.tools.length > 0) headers["x-tandem-tools"] = meta.tools.map(headerSafe).join("; ");
  if (meta.memory !== undefined && meta.memory.length > 0) headers["x-tandem-memory"] = meta.memory.map(headerSafe).join(", ");
  return headers;
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
