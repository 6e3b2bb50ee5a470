import { z } from "zod";
import type { ModelEntry } from "../../core/index.js";
import { parseBody } from "../shared/index.js";

/**
 * One entry of Anthropic's GET /v1/models: the SDK's ModelInfo, every field it declares. What
 * tandem cannot know of a target is null, as the types allow (capabilities, the model's line, its
 * largest max_tokens; no deprecation or retirement is scheduled); every model it lists is active.
 */
export interface AnthropicModel {
  type: "model";
  id: string;
  display_name: string;
  /** RFC 3339; the Unix epoch when the upstream did not say. */
  created_at: string;
  capabilities: null;
  deprecated_at: null;
  lifecycle: "active";
  line: null;
  /** The target's context window, where tandem knows it. */
  max_input_tokens: number | null;
  max_tokens: null;
  retires_at: null;
}

export interface AnthropicModelList {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

function rfc3339(unixSeconds: number | undefined): string {
  // Anthropic writes whole seconds: 2025-02-19T00:00:00Z.
  return new Date((unixSeconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function renderAnthropicModel(entry: ModelEntry): AnthropicModel {
  return {
    type: "model",
    id: entry.name,
    display_name: entry.name,
    created_at: rfc3339(entry.created),
    capabilities: null,
    deprecated_at: null,
    lifecycle: "active",
    line: null,
    max_input_tokens: entry.contextWindow ?? null,
    max_tokens: null,
    retires_at: null,
  };
}

/** What a bad `limit` is told, in words rather than the schema's (as GET /v1/audit says it). */
const LIMIT_EXPECTED = { error: "expected a whole number from 1 to 1000" };

/** GET /v1/models' query, as Anthropic takes it: a page of `limit` (1-1000, default 20) after or before an id. */
const ModelListQuerySchema = z.object({
  limit: z.coerce.number(LIMIT_EXPECTED).int(LIMIT_EXPECTED).min(1, LIMIT_EXPECTED).max(1000, LIMIT_EXPECTED).default(20),
  after_id: z.string().optional(),
  before_id: z.string().optional(),
});

/**
 * One page of the list, as Anthropic pages it: `limit` entries after `after_id` (or the last ones
 * before `before_id`), with `has_more` when entries lie beyond it in that direction. An id the list
 * does not hold gives an empty page.
 */
export function renderAnthropicModelList(entries: ModelEntry[], query: unknown = {}): AnthropicModelList {
  const { limit, after_id, before_id } = parseBody(ModelListQuerySchema, query);
  const all = entries.map(renderAnthropicModel);
  let page: AnthropicModel[];
  let hasMore: boolean;
  if (before_id !== undefined) {
    const end = all.findIndex((model) => model.id === before_id);
    const start = Math.max(0, end - limit);
    page = end < 0 ? [] : all.slice(start, end);
    hasMore = end > 0 && start > 0;
  } else {
    const start = after_id === undefined ? 0 : all.findIndex((model) => model.id === after_id) + 1;
    page = after_id !== undefined && start === 0 ? [] : all.slice(start, start + limit);
    hasMore = page.length > 0 && start + limit < all.length;
  }
  return { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null };
}
