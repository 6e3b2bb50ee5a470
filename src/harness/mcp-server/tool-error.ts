import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { findInCauses, GatewayError, isStoreFailure, storeUnavailable } from "../../core/index.js";

/**
 * A tool's failure as an MCP tool error (`isError: true`), which the calling model reads and can act
 * on; never a JSON-RPC error or a crash. A GatewayError's message is written for clients (secrets
 * scrubbed); a failure of the encrypted store is said as every route says it (a full disk: try again
 * shortly; a damaged store: unavailable), wherever in the cause chain it is; anything else is said
 * without its detail, which may quote a path or an upstream's text.
 */
export function toolError(err: unknown): CallToolResult {
  const store = findInCauses(err, (at) => (isStoreFailure(at) ? at : undefined));
  const error = store !== undefined ? storeUnavailable(store) : err instanceof GatewayError ? err : GatewayError.from(err);
  if (error.code !== "internal") return { content: [{ type: "text", text: `${error.message} (${error.code})` }], isError: true };
  const result: CallToolResult = {
    content: [{ type: "text", text: "Internal error in tandem (see the server log)" }],
    isError: true,
  };
  internalCauses.set(result, err);
  return result;
}

/** The failures behind "see the server log" answers, for the server to log (see `internalCauseOf`). */
const internalCauses = new WeakMap<CallToolResult, unknown>();

/** The error a tool's "Internal error" answer hides from the client, which the server log must show. */
export function internalCauseOf(result: CallToolResult): unknown {
  return internalCauses.get(result);
}

/** A refusal of the tool's own (a bad argument the schema cannot express), as an MCP tool error. */
export function toolRefusal(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}
