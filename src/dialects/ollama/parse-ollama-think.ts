import { GatewayError, type ReasoningControl } from "../../core/index.js";

/** Ollama's `think` (api.ThinkValue): a boolean or a level; "max" is Ollama's highest. */
export type OllamaThink = boolean | "low" | "medium" | "high" | "max";

const LEVELS = new Set(["low", "medium", "high", "max"]);

/**
 * Checks `think` as api.ThinkValue's UnmarshalJSON does, with its words for the two ways to get it
 * wrong (a string that is not a level; a value neither boolean nor string). Null is unset.
 */
export function parseOllamaThink(value: unknown): OllamaThink | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    if (LEVELS.has(value)) return value as OllamaThink;
    throw new GatewayError(
      "invalid_request",
      `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", "max", true, or false)`,
      { param: "think" },
    );
  }
  throw new GatewayError(
    "invalid_request",
    'think must be a boolean or string ("high", "medium", "low", "max", true, or false)',
    {
      param: "think",
    },
  );
}

/** Ollama's `think` as the canonical reasoning control. */
export function ollamaThink(think: OllamaThink): ReasoningControl {
  return typeof think === "boolean" ? { enabled: think } : { enabled: true, effort: think };
}
