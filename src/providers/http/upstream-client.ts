import { Agent, type Dispatcher } from "undici";
import { CONNECT_FAILURE_CODES, GatewayError } from "../../core/index.js";
import { answerLimitError, DEFAULT_ANSWER_LIMITS, readBodyUpTo } from "./answer-limits.js";
import { upstreamErrorFromResponse } from "./upstream-error.js";

export interface UpstreamRequestInit {
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  signal: AbortSignal;
  /**
   * Called with the exact JSON sent (text, or its UTF-8 bytes for a large body), once it may have
   * reached the upstream (not when no connection was made).
   */
  onBody?: ((body: string | Uint8Array) => void) | undefined;
  /** A tighter connect limit for this request (the route's), in ms. Default: the client's. */
  connectTimeoutMs?: number | undefined;
  /** The target named in errors about the answer (`provider/model`). Default: the provider's name. */
  target?: string | undefined;
}

/**
 * What every upstream request takes from the provider request it serves: the attempt's abort signal,
 * the egress hook (called with the exact body sent) and the route's connect limit.
 */
export function upstreamInit(
  request: { onUpstreamBody?: (body: string | Uint8Array) => void; connectTimeoutMs?: number },
  signal: AbortSignal,
  body: unknown,
): UpstreamRequestInit {
  return { body, signal, onBody: request.onUpstreamBody, connectTimeoutMs: request.connectTimeoutMs };
}

/**
 * A keep-alive connection pool to one upstream. Each provider owns one, so a slow upstream
 * cannot starve another's sockets.
 */
export class UpstreamClient {
  /** One pool per connect limit in use (undici fixes the limit per pool); routes use one or two. */
  readonly #agents = new Map<number, Agent>();
  readonly #connectTimeoutMs: number;
  readonly #baseUrl: string;
  readonly #target: string;
  readonly #maxAnswerBytes: number;
  /** Origin and path of each URL requested, parsed once: a provider requests only a handful. */
  readonly #urls = new Map<string, { origin: string; path: string }>();

  /** `maxAnswerBytes`: the largest 2xx answer `json` reads (config `limits.maxAnswerBytes`). Default 32 MiB. */
  constructor(
    baseUrl: string,
    options: { target: string; connectTimeoutMs?: number | undefined; maxAnswerBytes?: number | undefined },
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#target = options.target;
    this.#maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_ANSWER_LIMITS.maxAnswerBytes;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  #agent(connectTimeoutMs: number | undefined): Agent {
    const timeout = Math.min(connectTimeoutMs ?? this.#connectTimeoutMs, this.#connectTimeoutMs);
    let agent = this.#agents.get(timeout);
    if (agent === undefined) {
      agent = new Agent({
        connect: { timeout },
        keepAliveTimeout: 30_000,
        // Streams can pause for a long time between tokens; the router owns idle timeouts.
        bodyTimeout: 0,
        headersTimeout: 0,
        pipelining: 1,
      });
      this.#agents.set(timeout, agent);
    }
    return agent;
  }

  /**
   * Sends a request and returns the response when its status is 2xx. Any other status is read
   * and thrown as a GatewayError that mirrors the upstream's status, message and Retry-After.
   */
  async send(method: "GET" | "POST", path: string, init: UpstreamRequestInit): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData;
    let body: string | Buffer | undefined = init.body === undefined ? undefined : JSON.stringify(init.body);
    if (body !== undefined && body.length >= LARGE_BODY) body = await encodeInTurns(body);
    try {
      res = await this.#agent(init.connectTimeoutMs).request({
        ...this.#url(path),
        method,
        signal: init.signal,
        headers: init.body === undefined ? init.headers : { "content-type": "application/json", ...init.headers },
        body,
      });
      if (body !== undefined) init.onBody?.(body);
    } catch (err) {
      // A body may have gone out unless the connection never came up.
      if (body !== undefined && !CONNECT_FAILURE_CODES.has((err as { code?: string }).code ?? "")) init.onBody?.(body);
      throw withTarget(GatewayError.from(err), this.#target);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    throw await upstreamErrorFromResponse(res, this.#target);
  }

  #url(path: string): { origin: string; path: string } {
    let url = this.#urls.get(path);
    if (url === undefined) {
      const parsed = new URL(this.#baseUrl + path);
      url = { origin: parsed.origin, path: parsed.pathname + parsed.search };
      this.#urls.set(path, url);
    }
    return url;
  }

  /**
   * Sends a request and parses a 2xx JSON answer. An answer past `maxAnswerBytes` is not read on:
   * the connection is dropped and the attempt fails naming `limits.maxAnswerBytes`.
   */
  async json<T = unknown>(method: "GET" | "POST", path: string, init: UpstreamRequestInit): Promise<T> {
    const res = await this.send(method, path, init);
    let bytes: Buffer | undefined;
    try {
      bytes = await readBodyUpTo(res.body, this.#maxAnswerBytes, res.headers["content-length"]);
    } catch (err) {
      throw withTarget(GatewayError.from(err), this.#target);
    }
    if (bytes === undefined) throw answerLimitError(init.target ?? this.#target, "maxAnswerBytes", this.#maxAnswerBytes);
    try {
      return JSON.parse(bytes.toString("utf8")) as T;
    } catch {
      throw new GatewayError("upstream_error", `${this.#target} answered with invalid JSON`, { target: this.#target });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
  }
}

/** Request bodies at least this large are encoded to bytes in turns of the event loop of their own. */
const LARGE_BODY = 1024 * 1024;
/** Characters encoded per turn. */
const ENCODE_PIECE = 2 * 1024 * 1024;

/**
 * A large body's UTF-8 bytes, encoded a piece per turn of the event loop: encoding 32 MB at once
 * takes a good part of a second on a busy machine, which other clients should not wait through on
 * top of its serialisation. The bytes then go out as they are, and the egress audit hashes them
 * directly (hashing the text would encode it all over again).
 */
async function encodeInTurns(body: string): Promise<Buffer> {
  // One buffer of the exact size, written a piece at a time: no pieces to join afterwards.
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(body, "utf8"));
  let at = 0;
  for (let from = 0; from < body.length; ) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    let to = Math.min(body.length, from + ENCODE_PIECE);
    // Never between the two halves of a surrogate pair, which would encode as two broken characters.
    const last = body.charCodeAt(to - 1);
    if (to < body.length && last >= 0xd800 && last <= 0xdbff) to--;
    at += bytes.write(body.slice(from, to), at, "utf8");
    from = to;
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
  return bytes;
}

function withTarget(err: GatewayError, target: string): GatewayError {
  if (err.target !== undefined || err.code === "canceled") return err;
  return new GatewayError(err.code, `${target}: ${err.message}`, {
    status: err.status,
    retryable: err.retryable,
    target,
    cause: err.cause,
  });
}
