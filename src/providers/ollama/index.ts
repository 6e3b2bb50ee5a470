export { OllamaProvider } from "./ollama-provider.js";
