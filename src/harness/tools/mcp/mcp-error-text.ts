import { type HostedCallFailure, MCP_CALL_CODES, redactSecrets } from "../../../core/index.js";
import { McpAddressRefused, McpAnswerTooLarge } from "./mcp-http-fetch.js";
import { McpRedirectRefused } from "./mcp-redirects.js";
import { isConnectionClosed, isHttpTransportError, isMcpError, isUnauthorizedError } from "./mcp-sdk-errors.js";

/*
 * A server's failure as a short sentence the model and the client read (it goes back as a tool
 * error, not as an exception): what happened, in words, never a header value or an env secret.
 */

/** Our own timeout of a connect (the SDK bounds requests, not a transport's start). */
export class McpConnectTimeout extends Error {
  override readonly name = "McpConnectTimeout";
}

/** Whether the SDK gave up waiting for the answer to a request of ours (not a server's error that reuses the code). */
export function isRequestTimeout(err: unknown): boolean {
  if (err instanceof McpConnectTimeout) return true;
  if (!isMcpError(err) || err.code !== MCP_CALL_CODES.requestTimeout) return false;
  const data = err.data as { timeout?: unknown } | undefined;
  return data?.timeout !== undefined;
}

const ERRNO_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOENT: "command not found",
  EACCES: "permission denied",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
};

/** A refusal of mcpFetch's in the error or what caused it (undici's `fetch failed` hides it in `cause`). */
function ownRefusal(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (e instanceof McpAddressRefused || e instanceof McpAnswerTooLarge || e instanceof McpRedirectRefused) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The errno-style code of an error or of the error that caused it (undici's `fetch failed` hides it in `cause`). */
export function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why the request failed, in a few words, cleaned of the given secrets and of anything key-shaped. */
export function mcpErrorReason(err: unknown, secrets: Iterable<string> = []): string {
  return redactSecrets(rawReason(err), secrets).slice(0, 500);
}

function rawReason(err: unknown): string {
  if (isRequestTimeout(err)) return "timed out";
  // Our own refusals, wherever fetch or the SDK wrapped them ("fetch failed", "SSE error: ...").
  const ours = ownRefusal(err);
  if (ours !== undefined) return ours.message;
  if (isConnectionClosed(err)) return "the connection closed";
  if (isMcpError(err)) return err.message;
  if (isHttpTransportError(err)) {
    const status = err.code !== undefined && err.code > 0 ? `HTTP ${err.code}` : "bad answer";
    const hint = err.code === 401 || err.code === 403 ? " (the server refused the credentials: check the headers)" : "";
    return `${status}${hint}: ${err.message.slice(0, 200)}`;
  }
  if (isUnauthorizedError(err)) {
    return "HTTP 401: the server asks for authorization (OAuth is not supported: give a token in the headers)";
  }
  const code = errnoCode(err);
  if (code !== undefined && ERRNO_WORDS[code] !== undefined) return `${ERRNO_WORDS[code]} (${code})`;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Which kind of failure `err` was, as `mcp_call.error` tells them apart, with `message` (the worded
 * reason) as its text: the server's JSON-RPC error with its code; an HTTP error status; the SDK's
 * RequestTimeout; else a link lost or never made (ConnectionClosed).
 */
export function mcpCallFailure(err: unknown, message: string): HostedCallFailure {
  if (isRequestTimeout(err)) return { kind: "protocol", code: MCP_CALL_CODES.requestTimeout, message };
  if (ownRefusal(err) === undefined) {
    if (isMcpError(err)) return { kind: "protocol", code: err.code, message };
    if (isHttpTransportError(err) && err.code !== undefined && err.code > 0) return { kind: "http", status: err.code, message };
    if (isUnauthorizedError(err)) return { kind: "http", status: 401, message };
  }
  return { kind: "protocol", code: MCP_CALL_CODES.connectionClosed, message };
}
