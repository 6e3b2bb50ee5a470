import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { Agent, buildConnector, Response as UndiciResponse, fetch as undiciFetch } from "undici";
import { type FetchOnce, fetchWithinOrigin } from "./mcp-redirects.js";
import { answeringEveryRequest } from "./mcp-unanswered.js";

/** A server's address was refused (the reason names it and why). */
export class McpAddressRefused extends Error {
  override readonly name = "McpAddressRefused";
}

/** A server's answer was larger than `limits.maxAnswerBytes`. */
export class McpAnswerTooLarge extends Error {
  override readonly name = "McpAnswerTooLarge";
}

export interface McpFetchOptions {
  /** The most bytes one HTTP answer's body may hold (`limits.maxAnswerBytes`): past it the read stops. */
  maxAnswerBytes: number;
  /**
   * Why a server may not be reached at this IP address, or undefined. Asked of every address a
   * connection is about to be made to (an address literal, each address a name resolves to, and
   * so every redirect's too), before any byte is sent. Default: every address may be reached.
   */
  addressRefusal?: (address: string) => string | undefined;
  /** Told when an answer was cut at `maxAnswerBytes` (its reader gets the same error). */
  onAnswerTooLarge?: (error: McpAnswerTooLarge) => void;
}

/**
 * The fetch the MCP SDK's HTTP transports use for one server: its answers are read to at most
 * `maxAnswerBytes` each (a server that answers without end cannot fill tandem's memory), and its
 * connections go only to addresses `addressRefusal` lets through, checked when each connection is
 * made, so neither a DNS name that resolves elsewhere nor a redirect gets around it; redirects are
 * followed only within the server's origin, and one to another origin is refused before anything is
 * sent there (fetchWithinOrigin); a request whose
 * event stream ends without its answer is answered with an error (answeringEveryRequest). Its own pool of
 * connections, ended with `close()` once the transport is closed (what is still open then, such as an
 * event stream the server holds, is dropped rather than waited for).
 */
export function mcpFetch(options: McpFetchOptions): { fetch: FetchLike; close(): Promise<void> } {
  const refusal = options.addressRefusal;
  const agent = new Agent(refusal === undefined ? {} : { connect: guardedConnector(refusal) });
  // undici would follow a redirect anywhere by default; every exchange is sent with redirect "manual"
  // and only redirects within the server's origin are followed (fetchWithinOrigin).
  const fetchOnce: FetchOnce = async (url, init) =>
    (await undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as Response;
  const fetch: FetchLike = async (url, init) => {
    const response = await fetchWithinOrigin(fetchOnce, new URL(url), init);
    return capped(response as unknown as UndiciResponse, options) as unknown as Response;
  };
  // A request whose answer a server's event stream dropped fails now, saying so, not at its timeout.
  return { fetch: answeringEveryRequest(fetch, lostAnswerReason), close: () => agent.destroy() };
}

/** Why a request's answer will not come: its event stream ended (`error` undefined) or broke without it. */
function lostAnswerReason(error: unknown): string {
  if (error instanceof McpAnswerTooLarge) return error.message;
  const how =
    error === undefined
      ? "ended its answer's event stream without the response (it may have restarted)"
      : `broke off its answer's event stream before the response (${error instanceof Error ? error.message : String(error)})`;
  return `the server ${how}; the call may or may not have run`;
}

/** The answer with its body cut off (as an error) past `maxAnswerBytes`. */
function capped(response: UndiciResponse, options: McpFetchOptions): UndiciResponse {
  const max = options.maxAnswerBytes;
  // undici's stream types and the DOM library's differ in name only.
  const body = response.body as unknown as ReadableStream<Uint8Array> | null;
  if (body === null) return response;
  let seen = 0;
  const limited = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) {
          const error = new McpAnswerTooLarge(
            `its answer was larger than ${max} bytes (limits.maxAnswerBytes); the read was stopped`,
          );
          controller.error(error);
          options.onAnswerTooLarge?.(error);
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new UndiciResponse(limited as unknown as ConstructorParameters<typeof UndiciResponse>[0], {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** undici's connector, refusing an address before connecting to it. */
function guardedConnector(refusal: (address: string) => string | undefined): buildConnector.connector {
  const lookup = guardedLookup(refusal);
  const connect = buildConnector({ lookup } as buildConnector.BuildOptions);
  return (options, callback) => {
    // A literal address is connected to without a lookup: checked here.
    const literal = options.hostname.replace(/^\[|\]$/g, "");
    const why = isIP(literal) !== 0 ? refusal(literal) : undefined;
    if (why !== undefined) {
      callback(new McpAddressRefused(why), null);
      return;
    }
    connect(options, callback);
  };
}

/** dns.lookup, failing when any address the name resolves to is refused (a connection may use any of them). */
function guardedLookup(refusal: (address: string) => string | undefined): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      for (const { address } of addresses) {
        const why = refusal(address);
        if (why !== undefined) return callback(new McpAddressRefused(why));
      }
      const first = addresses[0];
      if (options.all === true) return callback(null, addresses);
      return callback(null, first?.address, first?.family);
    });
  }) as unknown as LookupFunction;
}
