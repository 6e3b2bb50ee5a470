/**
 * The Ollama version GET /api/version reports. Clients gate features on it (ollama-js and
 * ollama-python do not, but editors and UIs check a minimum version before they offer tools or
 * thinking). 0.12.10 is the first Ollama whose /api/chat returns tool-call ids, which tandem
 * always sends, so it is the oldest version that honestly describes what this API does.
 */
export const OLLAMA_COMPATIBLE_VERSION = "0.12.10";
