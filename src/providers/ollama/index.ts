export { OllamaProvider } from "./ollama-provider.js";
export { mapOllamaErrorResponse, mapOllamaStreamError } from "./map-ollama-error.js";
