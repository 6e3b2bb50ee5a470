import type { ChatCompletionListOptions } from "../../../core/index.js";
import { invalidParam, parseMetadata, parsePaging, single } from "../state/index.js";

/** `metadata[key]=value`, as the openai SDK sends a metadata filter (qs brackets). */
const METADATA_KEY = /^metadata\[(.*)\]$/s;

/**
 * The query of `GET /v1/chat/completions`: `after`, `limit` (1..100, default 20), `order` (`asc` |
 * `desc`, default asc), `model`, and `metadata[key]=value` filters (at most 16, with metadata's own
 * bounds on keys and values), as OpenAI defines them.
 */
export function parseChatListQuery(query: unknown): ChatCompletionListOptions {
  const q = (query ?? {}) as Record<string, unknown>;
  const options: ChatCompletionListOptions = parsePaging(q, { defaultLimit: 20, maxLimit: 100, defaultOrder: "asc" });
  const model = single(q.model, "model");
  if (model !== undefined && model !== "") options.model = model;
  const filters: Record<string, unknown> = {};
  let any = false;
  for (const [name, value] of Object.entries(q)) {
    const key = METADATA_KEY.exec(name)?.[1];
    if (key === undefined) {
      if (name === "metadata") throw invalidParam("metadata", "Invalid 'metadata': expected filters as metadata[key]=value.");
      continue;
    }
    filters[key] = single(value, `metadata[${key.slice(0, 64)}]`);
    any = true;
  }
  if (any) options.metadata = parseMetadata(filters);
  return options;
}
