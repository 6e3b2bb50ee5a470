import { Agent, type Dispatcher } from "undici";
import { type BeforeUpstreamBody, CONNECT_FAILURE_CODES, GatewayError } from "../../core/index.js";
import { answerLimitError, DEFAULT_ANSWER_LIMITS, readBodyUpTo } from "./answer-limits.js";
import { type UpstreamErrorMapper, upstreamErrorFromResponse } from "./upstream-error.js";

export interface UpstreamRequestInit {
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  signal: AbortSignal;
  /**
   * The egress audit's gate: awaited with the exact JSON sent (text, or its UTF-8 bytes for a large
   * body) before any byte of it is sent (see BeforeUpstreamBody).
   */
  beforeBody?: BeforeUpstreamBody | undefined;
  /** A tighter connect limit for this request (the route's), in ms. Default: the client's. */
  connectTimeoutMs?: number | undefined;
  /** The target named in errors about the answer (`provider/model`). Default: the provider's name. */
  target?: string | undefined;
}

/**
 * What every upstream request takes from the provider request it serves: the attempt's abort signal,
 * the egress audit's gate (awaited with the exact body before it is sent) and the route's connect limit.
 */
export function upstreamInit(
  request: { beforeUpstreamBody?: BeforeUpstreamBody; connectTimeoutMs?: number },
  signal: AbortSignal,
  body: unknown,
): UpstreamRequestInit {
  return { body, signal, beforeBody: request.beforeUpstreamBody, connectTimeoutMs: request.connectTimeoutMs };
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
  readonly #mapError: UpstreamErrorMapper | undefined;

  /** `maxAnswerBytes`: the largest 2xx answer `json` reads (config `limits.maxAnswerBytes`). Default 32 MiB. */
  constructor(
    baseUrl: string,
    options: {
      target: string;
      connectTimeoutMs?: number | undefined;
      maxAnswerBytes?: number | undefined;
      /** Reads the upstream's own error fields (each provider's map-*-error.ts). Default: the status decides. */
      mapError?: UpstreamErrorMapper;
    },
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#target = options.target;
    this.#mapError = options.mapError;
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
    let body: string | Buffer | undefined = init.body === undefined ? undefined : serializeBody(init.body, this.#target);
    if (body !== undefined && body.length >= LARGE_BODY) body = await encodeInTurns(body);
    // The audit row is committed before the first byte leaves; when it cannot be, its error is the
    // attempt's, as it is (not the upstream's), and nothing is sent.
    const receipt = body === undefined || init.beforeBody === undefined ? undefined : await init.beforeBody(body);
    // An attempt ended while its row was committed: undici sends nothing on an aborted signal.
    const endedBefore = init.signal.aborted;
    try {
      res = await this.#agent(init.connectTimeoutMs).request({
        ...this.#url(path),
        method,
        signal: init.signal,
        headers: init.body === undefined ? init.headers : { "content-type": "application/json", ...init.headers },
        body,
      });
    } catch (err) {
      // The body may have gone out, unless the connection never came up.
      if (receipt && (endedBefore || CONNECT_FAILURE_CODES.has((err as { code?: string }).code ?? ""))) receipt.notSent();
      throw withTarget(GatewayError.from(err), this.#target);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    throw await upstreamErrorFromResponse(res, this.#target, { map: this.#mapError, secrets: secretsIn(init.headers) });
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

/**
 * The JSON text of an upstream body. A client's request can be nested so deep (tool parameters,
 * response_format) that JSON.stringify overflows the stack, or so large that no string holds it:
 * that is the request's fault, so it fails as a 400/413 that no target and no breaker is blamed for
 * (and nothing was sent).
 */
function serializeBody(body: unknown, target: string): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new GatewayError("invalid_request", `${target}: the request is nested too deeply to send upstream`, {
        target,
        cause: err,
      });
    }
    if (err instanceof RangeError) {
      throw new GatewayError("payload_too_large", `${target}: the request is too large to send upstream`, { target, cause: err });
    }
    throw err;
  }
}

/** The credentials in a request's headers (Authorization, x-api-key and the like), to mask in its error. */
function secretsIn(headers: Record<string, string> | undefined): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!/auth|key|token|secret|cookie/i.test(name)) continue;
    secrets.push(value);
    const token = /^(?:Bearer|Basic)\s+(.+)$/i.exec(value)?.[1];
    if (token !== undefined) secrets.push(token);
  }
  return secrets;
}
