export { ollamaDialect } from "./ollama-dialect.js";
export { OllamaStreamRenderer } from "./ollama-stream-renderer.js";
export { OLLAMA_COMPATIBLE_VERSION } from "./ollama-version.js";
export { type OllamaPullStatus, ollamaPullStatus } from "./render-ollama-pull-status.js";
