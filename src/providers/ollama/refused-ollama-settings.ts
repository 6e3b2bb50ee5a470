import { leaveOut, type RefusalReader, RefusedSettings } from "../http/index.js";

/**
 * Ollama turns thinking on for a model that thinks, and refuses `think` for one that cannot
 * (server/routes.go: `"%q does not support thinking"`, a 400): a reasoning control from a client of
 * another dialect is then left out.
 */
const NO_THINKING = /does not support thinking/i;

/** The setting an Ollama upstream's 400 refused, if that is what it says. */
export const readOllamaRefusal: RefusalReader = (error) =>
  error.code === "invalid_request" && NO_THINKING.test(error.message) ? { field: "think", message: error.message } : undefined;

/** What an Ollama upstream's models refused of /api/chat and /api/generate bodies tandem built. */
export function refusedOllamaSettings(): RefusedSettings {
  return new RefusedSettings({ think: leaveOut("think") }, readOllamaRefusal);
}
