import type { ResponseMeta } from "../../core/index.js";

/** The `x-tandem-*` response headers of DESIGN.md. */
export function metaHeaders(meta: ResponseMeta): Record<string, string> {
  const headers: Record<string, string> = {
    "x-tandem-target": meta.target,
    "x-tandem-attempts": String(meta.attempts),
    "x-tandem-degraded": meta.degraded === undefined ? "false" : `true; ${meta.degraded}`,
  };
  if (meta.route !== undefined) headers["x-tandem-route"] = meta.route;
  if (meta.sensitivity !== undefined) headers["x-tandem-sensitivity"] = meta.sensitivity;
  // As the Responses dialect writes it: entries joined by `; `, printable ASCII only.
  if (meta.warnings !== undefined && meta.warnings.length > 0) {
    headers["x-tandem-warnings"] = meta.warnings
      .map((field) => `${field} not sent to ${meta.target}`.replace(/[^\x20-\x7e]|;/g, "?").slice(0, 300))
      .join("; ");
  }
  return headers;
}
