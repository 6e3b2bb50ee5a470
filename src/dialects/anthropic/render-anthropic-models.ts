import type { ModelEntry } from "../../core/index.js";

/** One entry of Anthropic's GET /v1/models. */
export interface AnthropicModel {
  type: "model";
  id: string;
  display_name: string;
  /** RFC 3339; the Unix epoch when the upstream did not say. */
  created_at: string;
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
  return { type: "model", id: entry.name, display_name: entry.name, created_at: rfc3339(entry.created) };
}

/** The whole list in one page: tandem's list is short and clients page with after_id only when has_more. */
export function renderAnthropicModelList(entries: ModelEntry[]): AnthropicModelList {
  const data = entries.map(renderAnthropicModel);
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
