import { GatewayError } from "../core/index.js";
import { type AuditQuery, parseSince, SINCE_EXPECTED, sinceTime } from "../store/index.js";

const MAX_LIMIT = 1000;

/**
 * GET /v1/audit's query: `since` (30m, 24h, 7d or an ISO date), `limit` (1-1000, default 100),
 * `target`, and `after` (a row's id: the page of older rows that follows it).
 */
export function parseAuditQuery(query: Record<string, unknown>, now = Date.now()): AuditQuery {
  const out: AuditQuery = {};
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string")
      throw new GatewayError("invalid_request", `Query parameter '${name}' is given twice`, { param: name });
    return value;
  };
  const since = text("since");
  if (since !== undefined) {
    const value = parseSince(since);
    if (value === undefined) {
      throw new GatewayError("invalid_request", `Invalid 'since': expected ${SINCE_EXPECTED}, got '${since.slice(0, 40)}'`, {
        param: "since",
      });
    }
    out.since = sinceTime(value, now);
  }
  const limit = text("limit");
  if (limit !== undefined) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_LIMIT) {
      throw new GatewayError("invalid_request", `Invalid 'limit': expected a whole number from 1 to ${MAX_LIMIT}`, {
        param: "limit",
      });
    }
    out.limit = n;
  }
  const target = text("target");
  if (target !== undefined) out.target = target;
  const after = text("after");
  if (after !== undefined) {
    if (!/^\d{1,15}$/.test(after)) {
      throw new GatewayError("invalid_request", "Invalid 'after': expected the id of an audit row (a whole number)", {
        param: "after",
      });
    }
    out.after = Number(after);
  }
  return out;
}
