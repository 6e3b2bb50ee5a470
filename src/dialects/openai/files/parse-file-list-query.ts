import type { FileListOptions } from "../../../core/index.js";
import { invalidParam, parsePaging } from "../state/index.js";

/** OpenAI's bounds of `limit` on GET /v1/files (its default is the maximum). */
const MAX_LIMIT = 10_000;

/**
 * The query of `GET /v1/files` as OpenAI defines it: `purpose`, `limit` (1..10000, default 10000),
 * `order` (`asc` | `desc` by creation, default `desc`) and `after` (a file id).
 */
export function parseFileListQuery(query: unknown): FileListOptions {
  const q = (query ?? {}) as Record<string, unknown>;
  const purpose = q.purpose;
  if (purpose !== undefined && typeof purpose !== "string") {
    throw invalidParam("purpose", "Invalid 'purpose': expected a single value.", "invalid_type");
  }
  // OpenAI's default `limit` here is its maximum.
  const paging = parsePaging(query, { defaultLimit: MAX_LIMIT, maxLimit: MAX_LIMIT });
  return { ...paging, ...(purpose !== undefined && purpose !== "" && { purpose }) };
}
