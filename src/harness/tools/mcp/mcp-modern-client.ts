import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { createParser } from "eventsource-parser";
import {
  HANDSHAKE_PROTOCOL_VERSIONS,
  HEADER_MISMATCH,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_PROTOCOL_VERSION,
  MISSING_REQUIRED_CLIENT_CAPABILITY,
  MODERN_PROTOCOL_VERSION,
  PUBLISHED_HANDSHAKE_VERSIONS,
  standardHeaders,
  UNSUPPORTED_PROTOCOL_VERSION,
} from "../../mcp-protocol/index.js";
import { isRequestTimeout } from "./mcp-error-text.js";
import { markServerAnswer } from "./mcp-sdk-errors.js";

/*
 * tandem's client of MCP's stateless revision, 2026-07-28, over Streamable HTTP (the SDK speaks only
 * the handshake revisions): no initialize and no session; each request is a POST of its own with its
 * protocol version, client info and capabilities in `params._meta`, the same in the
 * `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers, answered in JSON or in an event
 * stream that ends with the answer. Closing the POST is how a call is cancelled.
 */

/** The longest error body quoted in an HTTP error. */
const MAX_QUOTED_BODY = 300;

export interface McpModernClientOptions {
  url: URL;
  /** The configured (or request-given) headers: a server's key, with its secrets resolved. */
  headers: Record<string, string>;
  /** The fetch of the connection (bounded answers, allowed addresses: mcpFetch). */
  fetch: FetchLike;
  /** tandem's name and version, as `_meta`'s clientInfo. */
  clientInfo: { name: string; version: string };
}

export interface McpRequestOptions {
  /** Gives up after this long: an McpError RequestTimeout whose data names the timeout (isRequestTimeout). */
  timeoutMs: number;
  /** The caller's signal: its abort closes the POST, which cancels the request in the server. */
  signal?: AbortSignal;
  /** Headers of this request's own (a call's `Mcp-Param-*`). */
  headers?: Record<string, string>;
}

/** A server's answer held no JSON-RPC answer to the request (an empty 2xx, a page, an event stream that ended first). */
export class McpNoAnswer extends Error {
  override readonly name = "McpNoAnswer";
}

/** A 2026-07-28 result (any `resultType: "complete"` one). */
export type McpResult = Record<string, unknown>;

/** A client of one 2026-07-28 server at one URL. Holds no state between requests but its own closing. */
export class McpModernClient {
  readonly #options: McpModernClientOptions;
  readonly #closed = new AbortController();
  #nextId = 0;

  constructor(options: McpModernClientOptions) {
    this.#options = options;
  }

  /**
   * Sends one request and returns its result. Throws an McpError for a JSON-RPC error answer
   * (whatever its HTTP status) and for a result that is not `complete`, a StreamableHTTPError for an
   * HTTP error without one, the fetch's own failure (a refused connection, an address refused, an
   * answer too large), or the timeout.
   */
  async request(method: string, params: Record<string, unknown>, options: McpRequestOptions): Promise<McpResult> {
    const id = ++this.#nextId;
    const body = {
      jsonrpc: "2.0",
      id,
      method,
      params: {
        ...params,
        _meta: {
          [META_PROTOCOL_VERSION]: MODERN_PROTOCOL_VERSION,
          [META_CLIENT_INFO]: this.#options.clientInfo,
          // tandem answers no server request: no roots, sampling or elicitation.
          [META_CLIENT_CAPABILITIES]: {},
        },
      },
    };
    const headers: Record<string, string> = {
      ...this.#options.headers,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...standardHeaders(method, params),
      ...options.headers,
    };
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signals = [timeout, this.#closed.signal, ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    try {
      const response = await this.#options.fetch(this.#options.url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal,
      });
      const message = await readAnswer(response, id);
      if (message === undefined) {
        if (!response.ok)
          throw new StreamableHTTPError(response.status, `the server answered ${response.status} without a JSON-RPC answer`);
        throw new McpNoAnswer(`the server answered ${method} without a JSON-RPC answer (HTTP ${response.status})`);
      }
      if (message.error !== undefined) {
        const { code, message: text, data } = message.error;
        throw markServerAnswer(
          new McpError(Number.isSafeInteger(code) ? code : ErrorCode.InternalError, String(text ?? "error"), data),
        );
      }
      const result = message.result;
      if (result === null || typeof result !== "object" || Array.isArray(result)) {
        throw new Error(`the server answered ${method} with a result that is not an object`);
      }
      const type = (result as McpResult).resultType;
      // An earlier revision's server omits it: "complete" (the spec). tandem answers no input request.
      if (type !== undefined && type !== "complete") {
        throw new McpError(
          ErrorCode.InvalidRequest,
          `the server answered ${method} with resultType '${String(type).slice(0, 50)}', which tandem cannot follow (it declares no client capabilities)`,
        );
      }
      return result as McpResult;
    } catch (err) {
      if (timeout.aborted && !isRequestTimeout(err)) {
        throw new McpError(ErrorCode.RequestTimeout, "Request timed out", { timeout: options.timeoutMs });
      }
      throw err;
    }
  }

  /** Ends the requests in flight (their POSTs closed). */
  close(): void {
    this.#closed.abort(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
  }
}

interface RpcAnswer {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message?: unknown; data?: unknown };
}

/**
 * The JSON-RPC answer to request `id` in a response: its JSON body, or the event of its event stream
 * that answers `id` (notifications before it are passed over). Undefined when there is none (an
 * empty or non-JSON body: an HTTP error page, a legacy server's plain text).
 */
async function readAnswer(response: Response, id: number): Promise<RpcAnswer | undefined> {
  const type = (response.headers.get("content-type") ?? "").toLowerCase();
  if (type.startsWith("text/event-stream") && response.body !== null) return readEventStream(response.body, id);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (!response.ok) throw new StreamableHTTPError(response.status, text.slice(0, MAX_QUOTED_BODY) || response.statusText);
    return undefined;
  }
  return isAnswer(parsed) ? parsed : undefined;
}

async function readEventStream(body: ReadableStream<Uint8Array>, id: number): Promise<RpcAnswer | undefined> {
  let answer: RpcAnswer | undefined;
  const parser = createParser({
    onEvent(event) {
      if (answer !== undefined) return;
      try {
        const message: unknown = JSON.parse(event.data);
        if (isAnswer(message) && message.id === id) answer = message;
      } catch {
        // Not JSON: not an answer (a keep-alive, a proxy's note).
      }
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    while (answer === undefined) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    // The answer ends the exchange (the spec's SHOULD for the server): nothing more is read.
    await reader.cancel().catch(() => {});
  }
  if (answer === undefined) throw new McpNoAnswer("the server ended its answer's event stream without the response");
  return answer;
}

function isAnswer(value: unknown): value is RpcAnswer {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const message = value as RpcAnswer;
  if ("result" in message) return true;
  return message.error !== null && typeof message.error === "object" && typeof message.error.code === "number";
}

/** How a server answered `server/discover`: it serves 2026-07-28, or tandem is to use the handshake. */
export type McpEra = { era: "modern"; instructions?: string } | { era: "handshake"; why: string };

/**
 * Which era a server at a URL speaks, by a `server/discover` probe (2026-07-28's backward
 * compatibility: a modern server answers it, or refuses it with an error of that revision; any other
 * answer is a handshake server's). A DiscoverResult listing 2026-07-28 is modern; one that does not,
 * or an UnsupportedProtocolVersion error listing a handshake version, sends tandem to the handshake;
 * any other 2026-07-28 error (HeaderMismatch, MissingRequiredClientCapability, an UnsupportedProtocolVersion
 * listing no version tandem speaks) is thrown, as are a refused key (401, 403), a timeout and a
 * failure to reach the server at all. Any other error answer (a JSON-RPC error, a 4xx or 5xx
 * without one) is a handshake server's.
 */
export async function discoverEra(client: McpModernClient, timeoutMs: number): Promise<McpEra> {
  let result: McpResult;
  try {
    result = await client.request("server/discover", {}, { timeoutMs });
  } catch (err) {
    if (err instanceof McpError) {
      if (isRequestTimeout(err)) throw err;
      if (err.code === UNSUPPORTED_PROTOCOL_VERSION) {
        const supported = (err.data as { supported?: unknown } | undefined)?.supported;
        const versions = Array.isArray(supported) ? supported.filter((v): v is string => typeof v === "string") : [];
        if (versions.some((version) => HANDSHAKE_PROTOCOL_VERSIONS.includes(version))) {
          return { era: "handshake", why: `the server supports ${versions.join(", ")}` };
        }
        throw new McpError(
          err.code,
          `the server speaks MCP ${versions.join(", ").slice(0, 200) || "(no version named)"}, none of which tandem speaks (${MODERN_PROTOCOL_VERSION}, ${PUBLISHED_HANDSHAKE_VERSIONS.join(", ")})`,
          err.data,
        );
      }
      if (err.code === HEADER_MISMATCH || err.code === MISSING_REQUIRED_CLIENT_CAPABILITY) throw err;
      return { era: "handshake", why: `server/discover: ${err.message.slice(0, 200)}` };
    }
    if (err instanceof StreamableHTTPError && err.code !== undefined && err.code !== 401 && err.code !== 403) {
      return { era: "handshake", why: `server/discover: HTTP ${err.code}` };
    }
    if (err instanceof McpNoAnswer) return { era: "handshake", why: err.message };
    throw err;
  }
  const versions = Array.isArray(result.supportedVersions) ? result.supportedVersions : [];
  if (!versions.includes(MODERN_PROTOCOL_VERSION)) {
    return { era: "handshake", why: `server/discover lists ${versions.map(String).join(", ").slice(0, 200)}` };
  }
  return { era: "modern", ...(typeof result.instructions === "string" && { instructions: result.instructions }) };
}
