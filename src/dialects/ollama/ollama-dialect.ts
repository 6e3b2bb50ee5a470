import type { Gateway, GatewayError } from "../../core/index.js";
import { type Dialect, RouteTable } from "../shared/index.js";
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
  // Ollama serves everything under /api.
  speaks: (request) => request.url === "/api" || request.url.startsWith("/api/"),
  routes(gateway: Gateway) {
    const table = new RouteTable();
    registerOllamaChatRoutes(table, gateway);
    registerOllamaEmbedRoutes(table, gateway);
    registerOllamaModelRoutes(table, gateway);
    registerOllamaPullRoute(table, gateway);
    registerOllamaLibraryRoutes(table, gateway);
    return table.routes;
  },
  renderError(error: GatewayError) {
    return renderOllamaError(error);
  },
};
