import type { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type { SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import type { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { McpError } from "@modelcontextprotocol/sdk/types.js";
import { MCP_CALL_CODES } from "../../../core/index.js";

/*
 * The MCP SDK's client side is loaded with the first connection to an MCP server (the tool host
 * imports mcp-connection.ts then): its modules take about 0.25 s to load, which every start of tandem
 * (every CLI command, `serve` with no MCP server configured) used to pay. The error classes a failure
 * is told apart by are bound here at that moment (loadMcpSdkErrors); until then no error of the SDK's
 * can exist, so each check below is false.
 */

interface SdkErrors {
  McpError: typeof McpError;
  SseError: typeof SseError;
  StreamableHTTPError: typeof StreamableHTTPError;
  UnauthorizedError: typeof UnauthorizedError;
}

let loaded: SdkErrors | undefined;
let loading: Promise<void> | undefined;

/** Binds the SDK's error classes (loading their modules, when the connection code has not yet). */
export function loadMcpSdkErrors(): Promise<void> {
  if (loaded) return Promise.resolve();
  loading ??= Promise.all([
    import("@modelcontextprotocol/sdk/types.js"),
    import("@modelcontextprotocol/sdk/client/sse.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/client/auth.js"),
  ]).then(([types, sse, http, auth]) => {
    loaded = {
      McpError: types.McpError,
      SseError: sse.SseError,
      StreamableHTTPError: http.StreamableHTTPError,
      UnauthorizedError: auth.UnauthorizedError,
    };
  });
  return loading;
}

/** A JSON-RPC error: the server's, or one the SDK raised itself (a closed connection, a request timed out). */
export function isMcpError(err: unknown): err is McpError {
  return loaded !== undefined && err instanceof loaded.McpError;
}

/**
 * The JSON-RPC errors a server answered with, as told apart from the ones the SDK raised itself where
 * the two share a code: a server may answer a call with -32000, the code of the SDK's ConnectionClosed.
 */
const serverAnswers = new WeakSet<Error>();

/** Marks an error as the server's own JSON-RPC answer (the session that read it knows). */
export function markServerAnswer<E extends Error>(err: E): E {
  serverAnswers.add(err);
  return err;
}

/** The SDK's ConnectionClosed: the link to the server is lost (not a server's answer that reuses the code). */
export function isConnectionClosed(err: unknown): err is McpError {
  return isMcpError(err) && err.code === MCP_CALL_CODES.connectionClosed && !serverAnswers.has(err);
}

/** An HTTP transport's error: a status the server answered with (`code`), or an answer that was not MCP. */
export function isHttpTransportError(err: unknown): err is StreamableHTTPError | SseError {
  return loaded !== undefined && (err instanceof loaded.StreamableHTTPError || err instanceof loaded.SseError);
}

/** The Streamable HTTP transport's error (its `code` is the HTTP status, when there was one). */
export function isStreamableHttpError(err: unknown): err is StreamableHTTPError {
  return loaded !== undefined && err instanceof loaded.StreamableHTTPError;
}

/** The SDK's 401 without an OAuth provider: the server asks for authorization. */
export function isUnauthorizedError(err: unknown): err is UnauthorizedError {
  return loaded !== undefined && err instanceof loaded.UnauthorizedError;
}
