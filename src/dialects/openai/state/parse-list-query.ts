import type { ListOptions } from "../../../core/state.js";
import { invalidParam } from "./state-api-error.js";

/** What OpenAI's list endpoints accept in `include` (ResponseIncludable in the openai SDK). */
const INCLUDABLE = new Set([
  "file_search_call.results",
  "web_search_call.results",
  "web_search_call.action.sources",
  "message.input_image.image_url",
  "computer_call_output.output.image_url",
  "code_interpreter_call.outputs",
  "reasoning.encrypted_content",
  "message.output_text.logprobs",
]);

export interface ListQuery extends ListOptions {
  include: string[];
}

/**
 * The paging query of `GET /v1/responses/{id}/input_items` and `GET /v1/conversations/{id}/items`:
 * `after`, `limit` (1..100, default 20) and `order` (`asc` | `desc`, default `desc`), as OpenAI
 * defines them, and `include`; with `before` for the lists that take it (input items: the older
 * SDKs' InputItemListParams have it, and a client paging back with it must not be given page 1).
 */
export function parseListQuery(query: unknown, takes: { before?: boolean } = {}): ListQuery {
  const paging = parsePaging(query, { defaultLimit: 20, maxLimit: 100 });
  const before = takes.before ? single((query as Record<string, unknown> | undefined)?.before, "before") : undefined;
  return { ...paging, ...(before !== undefined && before !== "" && { before }), include: parseInclude(query) };
}

/**
 * `after`, `limit` and `order` of one of OpenAI's list endpoints, with its own bounds of `limit`
 * (1..maxLimit) and its defaults (`order`: desc unless the endpoint's is asc), in OpenAI's words
 * when one is wrong.
 */
export function parsePaging(
  query: unknown,
  bounds: { defaultLimit: number; maxLimit: number; defaultOrder?: "asc" | "desc" },
): ListOptions {
  const q = (query ?? {}) as Record<string, unknown>;
  const after = single(q.after, "after");
  const limitText = single(q.limit, "limit");
  let limit = bounds.defaultLimit;
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
    if (limit > bounds.maxLimit) {
      throw invalidParam(
        "limit",
        `Invalid 'limit': integer above maximum value. Expected a value <= ${bounds.maxLimit}, but got ${limit} instead.`,
        "integer_above_max_value",
      );
    }
  }
  const order = single(q.order, "order") ?? bounds.defaultOrder ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw invalidParam("order", `Invalid value: '${order.slice(0, 100)}'. Supported values are: 'asc' and 'desc'.`);
  }
  return { ...(after !== undefined && after !== "" && { after }), limit, order };
}

/**
 * `include` as the openai SDK sends it (`include[]=a&include[]=b`) or as `include=a`. Known values
 * are accepted; tandem stores items whole, so there is nothing to leave out.
 */
export function parseInclude(query: unknown): string[] {
  const q = (query ?? {}) as Record<string, unknown>;
  const raw = [q.include, q["include[]"]].flat().filter((v) => v !== undefined);
  for (const value of raw) {
    if (typeof value !== "string" || !INCLUDABLE.has(value)) {
      throw invalidParam(
        "include",
        `Invalid value: '${String(value)}'. Supported values are: ${[...INCLUDABLE].map((v) => `'${v}'`).join(", ")}.`,
      );
    }
  }
  return raw as string[];
}

/** A query value that may be given once: a repeated one is a client bug, said as such. */
export function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  throw invalidParam(
    name,
    `Invalid '${name}': expected a single value, but got ${Array.isArray(value) ? value.length : "several"}.`,
    "invalid_type",
  );
}
