/**
 * The gateway contract moved to core/gateway.ts (the router implements it; dialects call it). This
 * re-export keeps the router's files that name it here compiling while parallel branches merge;
 * import from core instead, and delete this file once nothing names it.
 */
export type { ChatStream, Gateway, ModelEntry, ModelLibrary, RequestContext, ResponseMeta } from "../core/index.js";
