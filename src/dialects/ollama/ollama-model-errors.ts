import { GatewayError } from "../../core/index.js";

/**
 * How Ollama's server/routes.go words an unknown model, by endpoint: /api/chat, /api/generate,
 * /api/show and /api/delete say `model 'x' not found`; /api/copy `model "x" not found`; /api/embed
 * and /api/embeddings (through handleScheduleError) `model "x" not found, try pulling it first`.
 * All are 404s naming the model as the client sent it, followed by the models that exist; clients (the ollama CLI, Open WebUI) show the
 * text and offer a pull on a 404.
 */
export type OllamaNotFoundWording = "not-found" | "quoted" | "try-pulling";

const WORDINGS: Record<OllamaNotFoundWording, (model: string) => string> = {
  "not-found": (model) => `model '${model}' not found`,
  quoted: (model) => `model ${JSON.stringify(model)} not found`,
  "try-pulling": (model) => `model ${JSON.stringify(model)} not found, try pulling it first`,
};

/** Ollama's 400 for a request without a model. */
export function ollamaModelRequired(): GatewayError {
  return new GatewayError("invalid_request", "model is required", { param: "model" });
}

/** The request's model, or Ollama's 400 when it has none (absent, null or ""). */
export function requiredModel(...names: Array<string | null | undefined>): string {
  const name = names.find((n): n is string => typeof n === "string" && n !== "");
  if (name === undefined) throw ollamaModelRequired();
  return name;
}

/**
 * tandem's own "no such model" (the catalog's, or the local engine's: a not_found about the request's
 * `model`) in Ollama's words for this endpoint; any other error as it was. An upstream's 404 (an
 * Ollama upstream that lacks the model) carries no such param and keeps its own words.
 */
export function asOllamaModelError(err: unknown, model: string, wording: OllamaNotFoundWording): unknown {
  if (!(err instanceof GatewayError) || err.code !== "not_found" || err.param !== "model") return err;
  // Ollama's words first (clients read the 404 and its text), then what tandem's own error adds: the
  // models that exist (DESIGN: an unknown name's 404 lists them), or how to configure one.
  const listed = /(?:Available: |No models are configured|Local models: |No local models are installed).*$/s.exec(
    err.message,
  )?.[0];
  const text = WORDINGS[wording](model);
  return new GatewayError("not_found", listed === undefined ? text : `${text}. ${listed}`, { param: "model", cause: err });
}

/** Runs one step of a request that names a model, answering tandem's unknown-model error as Ollama does. */
export async function withOllamaModelErrors<T>(
  model: string,
  wording: OllamaNotFoundWording,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw asOllamaModelError(err, model, wording);
  }
}
