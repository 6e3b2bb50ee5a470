export { mapOllamaErrorResponse, mapOllamaStreamError } from "./map-ollama-error.js";
export { OllamaProvider } from "./ollama-provider.js";
