import type { ModelEntry } from "../../core/index.js";

/** One entry of GET /v1/models, as the API reference has it. */
export interface OpenAIModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export function renderOpenAIModel(entry: ModelEntry): OpenAIModel {
  return {
    id: entry.name,
    object: "model",
    // The API requires a number; 0 for names (routes, discovered models) that have no date.
    created: entry.created ?? 0,
    // Routes belong to tandem; targets to the provider that serves them.
    owned_by: entry.kind === "route" ? "tandem" : (entry.provider ?? "tandem"),
  };
}

export function renderOpenAIModelList(entries: readonly ModelEntry[]): { object: "list"; data: OpenAIModel[] } {
  return { object: "list", data: entries.map(renderOpenAIModel) };
}
