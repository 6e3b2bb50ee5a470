import type { FastifyInstance } from "fastify";
import type { GatewayError } from "../../core/index.js";
import type { Gateway } from "../../router/gateway.js";
import type { Dialect } from "../../server/dialect.js";
import { registerOllamaChatRoutes } from "./register-ollama-chat-routes.js";
import { registerOllamaEmbedRoutes } from "./register-ollama-embed-routes.js";
import { registerOllamaLibraryRoutes } from "./register-ollama-library-routes.js";
import { registerOllamaModelRoutes } from "./register-ollama-model-routes.js";
import { registerOllamaPullRoute } from "./register-ollama-pull-route.js";
import { renderOllamaError } from "./render-ollama-error.js";

/**
 * The Ollama API under /api: chat, generate, embed (and legacy embeddings), tags, show, ps,
 * version, pull, and the model workflow (delete, copy, create, blobs). Unlike Ollama, bodies must be labelled JSON (`Content-Type: application/json`; Ollama's
 * docs use a bare `curl -d`): the server's app owns that parser and answers other types with 415.
 */
export const ollamaDialect: Dialect = {
  name: "ollama",
  register(app: FastifyInstance, gateway: Gateway): void {
    registerOllamaChatRoutes(app, gateway);
    registerOllamaEmbedRoutes(app, gateway);
    registerOllamaModelRoutes(app, gateway);
    registerOllamaPullRoute(app, gateway);
    registerOllamaLibraryRoutes(app, gateway);
  },
  renderError(error: GatewayError) {
    return renderOllamaError(error);
  },
};
