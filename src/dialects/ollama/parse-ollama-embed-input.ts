import { GatewayError } from "../../core/index.js";

/**
 * /api/embed's `input` (api.EmbedRequest: `any`) as the texts to embed, as routes.go's EmbedHandler
 * reads it: a string is one text ("" none), a list must hold only strings, and a missing or null
 * input is no texts (the request then only loads the model). Anything else is Ollama's
 * 400 `invalid input type`.
 */
export function parseOllamaEmbedInput(input: unknown): string[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") return input === "" ? [] : [input];
  if (Array.isArray(input) && input.every((item) => typeof item === "string")) return input as string[];
  throw new GatewayError("invalid_request", "invalid input type", { param: "input" });
}
