import type { Gateway } from "../../core/index.js";
import { GatewayError } from "../../core/index.js";
import type { ModelSettings } from "../../models/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, parseBody } from "../shared/index.js";
import { requiredModel, withOllamaModelErrors } from "./ollama-model-errors.js";
import { ollamaShowRequestSchema } from "./ollama-server-api.js";
import { OLLAMA_COMPATIBLE_VERSION } from "./ollama-version.js";
import { renderOllamaPsEntry, renderOllamaShow, renderOllamaTagsEntry } from "./render-ollama-models.js";

/** GET /api/tags, POST /api/show, GET /api/ps, GET /api/version. */
export function registerOllamaModelRoutes(scope: RouteTable, gateway: Gateway): void {
  scope.get("/api/tags", async () => {
    const models = await gateway.models();
    return { models: models.map(renderOllamaTagsEntry) };
  });

  scope.post("/api/show", async (request, reply) => {
    const body = parseBody(ollamaShowRequestSchema, request.body);
    const name = requiredModel(body.model, body.name);
    return withOllamaModelErrors(name, "not-found", async () => {
      const entry = await gateway.model(name);
      const settings = entry.engineModel === true ? await localSettings(gateway, entry.name) : undefined;
      // A remote target's upstream may say what its model can do (an Ollama server's own /api/show).
      const upstream =
        entry.kind === "target" && entry.engineModel !== true
          ? await gateway.describeModel?.(entry.name, clientSignal(request, reply))
          : undefined;
      return renderOllamaShow(entry, settings, upstream);
    });
  });

  // Only the local engine loads models; remote targets are always ready and not listed.
  scope.get("/api/ps", async () => ({ models: gateway.loadedModels().map(renderOllamaPsEntry) }));

  scope.get("/api/version", async () => ({ version: OLLAMA_COMPATIBLE_VERSION }));
}

/**
 * A local model's saved defaults (Ollama's create). A local name that is not installed is a 404, as
 * in Ollama (the catalog passes every local name through to the engine, which is the one to know).
 */
async function localSettings(gateway: Gateway, name: string): Promise<ModelSettings | undefined> {
  try {
    return await gateway.modelLibrary().settings(name);
  } catch (err) {
    if (err instanceof GatewayError && err.code === "not_found") throw err;
    return undefined;
  }
}
