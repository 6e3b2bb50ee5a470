import { anthropicDialect } from "./anthropic/index.js";
import { ollamaDialect } from "./ollama/index.js";
import { openaiDialect } from "./openai/index.js";
import type { Dialect, RequestHead } from "./shared/index.js";

export type { Dialect, DialectRoute, DialectServices, ErrorRendering, RequestHead } from "./shared/index.js";

/**
 * Every wire API tandem speaks: the server mounts each one's routes. Most specific first, since a
 * request belongs to the first that claims it (Ollama's /api, then Anthropic's /v1/messages and
 * anthropic-version header, then OpenAI's /v1). A new dialect is its folder plus one entry here.
 */
export const DIALECTS: readonly Dialect[] = [ollamaDialect, anthropicDialect, openaiDialect];

/** Renders the errors of requests no dialect claims (`/`, `/health`, an unknown path). */
export const DEFAULT_DIALECT: Dialect = openaiDialect;

/** Which dialect a request speaks, by its path and headers: its errors are rendered in that dialect's shape. */
export function dialectFor(request: RequestHead): Dialect {
  for (const dialect of DIALECTS) if (dialect.speaks(request)) return dialect;
  return DEFAULT_DIALECT;
}
