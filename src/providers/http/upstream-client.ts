import { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import {
  ACCEPTED_CODINGS,
  answerTooDeepError,
  type BeforeUpstreamBody,
  CONNECT_FAILURE_CODES,
  GatewayError,
  isLoopbackUrl,
  MAX_ANSWER_DEPTH,
  nestsDeeperThan,
} from "../../core/index.js";
import { answerLimitError, DEFAULT_ANSWER_LIMITS, readBodyUpTo } from "./answer-limits.js";
import { withoutByteOrderMark } from "./byte-order-mark.js";
import { decodedAnswer, type UpstreamResponse } from "./decoded-answer.js";
import { type UpstreamErrorMapper, upstreamErrorFromResponse } from "./upstream-error.js";
import { upstreamBodyBytes } from "./upstream-json.js";

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
  /** What `Accept-Encoding` says (see the constructor). */
  readonly #acceptEncoding: string;

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
    // A remote upstream is asked for what the vendors' own SDKs ask for (fetch's `br, gzip, deflate`,
    // httpx's `gzip, deflate`), so it answers tandem as it answers them, and a large whole answer
    // (embeddings, a model list) crosses the network compressed. An upstream on this machine (Ollama,
    // llama-server, LM Studio) is asked for none: compressing on loopback spends CPU on both ends to
    // save nothing. Whatever is asked, a compressed answer is decoded (decodedAnswer); a provider's
    // configured headers may say otherwise.
    this.#acceptEncoding = isLoopbackUrl(this.#baseUrl) ? "identity" : ACCEPTED_CODINGS;
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
   * Sends a request and returns the response, its content decoded (decodedAnswer), when its status
   * is 2xx. Any other status is read and thrown as a GatewayError that mirrors the upstream's status,
   * message and Retry-After.
   */
  async send(method: "GET" | "POST", path: string, init: UpstreamRequestInit): Promise<UpstreamResponse> {
    let raw: Dispatcher.ResponseData;
    const body = init.body === undefined ? undefined : await upstreamBodyBytes(init.body, this.#target);
    // The audit row is committed before the first byte leaves; when it cannot be, its error is the
    // attempt's, as it is (not the upstream's), and nothing is sent.
    const receipt = body === undefined || init.beforeBody === undefined ? undefined : await init.beforeBody(body);
    // An attempt ended while its row was committed: undici sends nothing on an aborted signal.
    const endedBefore = init.signal.aborted;
    try {
      raw = await this.#agent(init.connectTimeoutMs).request({
        ...this.#url(path),
        method,
        signal: init.signal,
        headers: this.#headers(init),
        body,
      });
    } catch (err) {
      // The body may have gone out, unless the connection never came up.
      if (receipt && (endedBefore || CONNECT_FAILURE_CODES.has((err as { code?: string }).code ?? ""))) receipt.notSent();
      throw withTarget(GatewayError.from(err), this.#target);
    }
    const ok = raw.statusCode >= 200 && raw.statusCode < 300;
    let res: UpstreamResponse;
    try {
      res = decodedAnswer(raw, init.target ?? this.#target);
    } catch (err) {
      // An error answer in a coding tandem cannot read is still that error: its status says it.
      if (ok) throw err;
      res = { statusCode: raw.statusCode, headers: raw.headers, body: Readable.from([]) };
    }
    if (ok) return res;
    throw await upstreamErrorFromResponse(res, this.#target, { map: this.#mapError, secrets: secretsIn(init.headers) });
  }

  /** A request's headers: the body's type, the codings tandem decodes, and the provider's own (which win). */
  #headers(init: UpstreamRequestInit): Record<string, string> | undefined {
    const own = init.headers ?? {};
    const headers: Record<string, string> = init.body === undefined ? {} : { "content-type": "application/json" };
    if (!Object.keys(own).some((name) => name.toLowerCase() === "accept-encoding"))
      headers["accept-encoding"] = this.#acceptEncoding;
    return { ...headers, ...own };
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
   * Sends a request and parses a 2xx JSON answer (see readJson).
   */
  async json<T = unknown>(method: "GET" | "POST", path: string, init: UpstreamRequestInit): Promise<T> {
    return this.readJson<T>(await this.send(method, path, init), init.target);
  }

  /**
   * A 2xx answer's JSON. An answer past `maxAnswerBytes` is not read on: the connection is dropped
   * and the attempt fails naming `limits.maxAnswerBytes`. A leading byte order mark is not JSON's,
   * but some servers write one (as SSE allows in a stream): it is skipped.
   */
  async readJson<T = unknown>(res: UpstreamResponse, target: string = this.#target): Promise<T> {
    let bytes: Buffer | undefined;
    try {
      bytes = await readBodyUpTo(res.body, this.#maxAnswerBytes, res.headers["content-length"]);
    } catch (err) {
      throw withTarget(GatewayError.from(err), this.#target);
    }
    if (bytes === undefined) throw answerLimitError(target, "maxAnswerBytes", this.#maxAnswerBytes);
    const text = withoutByteOrderMark(bytes.toString("utf8"));
    // Parsed, such an answer would overflow the stack where it is written out again (to the client,
    // to the store): the upstream's failure, found while the route can still move on.
    if (nestsDeeperThan(text, MAX_ANSWER_DEPTH)) throw answerTooDeepError(target);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new GatewayError("upstream_error", `${this.#target} answered with invalid JSON`, { target: this.#target });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
  }
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
