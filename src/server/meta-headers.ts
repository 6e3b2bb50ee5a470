import type { ResponseMeta } from "../router/gateway.js";

/** The `x-tandem-*` response headers of DESIGN.md. */
export function metaHeaders(meta: ResponseMeta): Record<string, string> {
  const headers: Record<string, string> = {
    "x-tandem-target": meta.target,
    "x-tandem-attempts": String(meta.attempts),
    "x-tandem-degraded": meta.degraded === undefined ? "false" : `true; ${meta.degraded}`,
  };
  if (meta.route !== undefined) headers["x-tandem-route"] = meta.route;
  if (meta.sensitivity !== undefined) headers["x-tandem-sensitivity"] = meta.sensitivity;
  return headers;
}
