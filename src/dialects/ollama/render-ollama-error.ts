import type { GatewayError } from "../../core/index.js";
import type { ErrorRendering } from "../shared/index.js";

/**
 * Ollama's error body is `{"error": "<message>"}`. The status is the error's own (400 bad request,
 * 404 unknown model, 429, 500...), except Anthropic's 529, which Ollama clients do not know:
 * they get 503, the status Ollama itself uses when it is too busy.
 */
export function renderOllamaError(error: GatewayError): ErrorRendering {
  const status = error.status === 529 ? 503 : error.status;
  return { status, body: { error: error.message } };
}
