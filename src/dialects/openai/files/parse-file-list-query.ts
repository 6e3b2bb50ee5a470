import type { FileListOptions } from "../../../core/index.js";
import { invalidParam } from "../state/index.js";

/** OpenAI's bounds of `limit` on GET /v1/files (its default is the maximum). */
const MAX_LIMIT = 10_000;

/**
 * The query of `GET /v1/files` as OpenAI defines it: `purpose`, `limit` (1..10000, default 10000),
 * `order` (`asc` | `desc` by creation, default `desc`) and `after` (a file id).
 */
export function parseFileListQuery(query: unknown): FileListOptions {
  const q = (query ?? {}) as Record<string, unknown>;
  const purpose = single(q.purpose, "purpose");
  const after = single(q.after, "after");
  const limitText = single(q.limit, "limit");
  let limit = MAX_LIMIT;
  if (limitText !== undefined) {
    if (!/^-?\d{1,12}$/.test(limitText)) {
      throw invalidParam(
        "limit",
        `Invalid 'limit': expected an integer, but got '${limitText.slice(0, 100)}' instead.`,
        "invalid_type",
      );
    }
    limit = Number(limitText);
    if (limit < 1) {
      throw invalidParam(
        "limit",
        `Invalid 'limit': integer below minimum value. Expected a value >= 1, but got ${limit} instead.`,
        "integer_below_min_value",
      );
    }
    if (limit > MAX_LIMIT) {
      throw invalidParam(
        "limit",
        `Invalid 'limit': integer above maximum value. Expected a value <= ${MAX_LIMIT}, but got ${limit} instead.`,
        "integer_above_max_value",
      );
    }
  }
  const order = single(q.order, "order") ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw invalidParam("order", `Invalid value: '${order.slice(0, 100)}'. Supported values are: 'asc' and 'desc'.`);
  }
  return {
    limit,
    order,
    ...(purpose !== undefined && purpose !== "" && { purpose }),
    ...(after !== undefined && after !== "" && { after }),
  };
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  throw invalidParam(name, `Invalid '${name}': expected a single value.`, "invalid_type");
}
