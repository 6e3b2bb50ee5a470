import { type FileSearchTool, GatewayError } from "../../../core/index.js";
import { StateApiError } from "../state/index.js";
import { parseAttributeFilter, parseInteger, parseRankingOptions } from "../vector-stores/parse-vector-store-fields.js";

/** Vector stores one `file_search` tool may name (a bound of tandem's: each is searched in turn). */
const MAX_VECTOR_STORES = 10;

/**
 * A request's `{type: "file_search"}` tool (OpenAI's FileSearchTool): `vector_store_ids` (tandem's
 * own stores, searched by tandem's tool loop for any target, never sent upstream),
 * `max_num_results` (1-50, default 10), `filters`, `ranking_options`. A malformed one is OpenAI's
 * 400 naming the field. `echoed` is the tool as the Response repeats it, defaults filled in.
 */
export function parseFileSearchTool(
  tools: readonly Record<string, unknown>[] | null | undefined,
): { tool: FileSearchTool; echoed: Record<string, unknown> } | undefined {
  let found: { tool: FileSearchTool; echoed: Record<string, unknown> } | undefined;
  for (const [i, raw] of (tools ?? []).entries()) {
    if (raw.type !== "file_search") continue;
    const at = `tools[${i}]`;
    if (found !== undefined) throw invalid(at, "only one file_search tool may be given");
    try {
      const ids = raw.vector_store_ids;
      if (
        !Array.isArray(ids) ||
        ids.length === 0 ||
        ids.length > MAX_VECTOR_STORES ||
        ids.some((id) => typeof id !== "string" || id === "")
      ) {
        throw invalid(`${at}.vector_store_ids`, `expected an array of 1 to ${MAX_VECTOR_STORES} vector store ids`);
      }
      const maxResults = raw.max_num_results == null ? 10 : parseInteger(raw.max_num_results, `${at}.max_num_results`, 1, 50);
      const scoreThreshold = parseRankingOptions(raw.ranking_options, `${at}.ranking_options`);
      const filter = raw.filters == null ? undefined : parseAttributeFilter(raw.filters, `${at}.filters`);
      const ranking = (raw.ranking_options ?? {}) as Record<string, unknown>;
      found = {
        tool: { vectorStoreIds: ids as string[], maxResults, scoreThreshold, ...(filter !== undefined && { filter }) },
        echoed: {
          type: "file_search",
          vector_store_ids: ids,
          filters: raw.filters ?? null,
          max_num_results: maxResults,
          ranking_options: { ranker: ranking.ranker ?? "auto", score_threshold: scoreThreshold },
        },
      };
    } catch (err) {
      if (!(err instanceof StateApiError)) throw err;
      throw new GatewayError("invalid_request", err.message, {
        ...(err.param !== null && { param: err.param }),
        ...(err.code !== null && { reason: err.code }),
      });
    }
  }
  return found;
}

function invalid(param: string, expected: string): GatewayError {
  return new GatewayError("invalid_request", `Invalid value for '${param}': ${expected}.`, { param, reason: "invalid_value" });
}
