/**
 * One error type for the whole gateway, with a closed set of codes (after connect-es).
 * Dialects render it in their own error shape; the status comes from the code unless an
 * upstream's status is being passed on.
 */

import {
  ABORT_CODES,
  NETWORK_FAILURE_CODES,
  PROTOCOL_FAILURE_CODES,
  PROTOCOL_FAILURE_NAMES,
  TIMEOUT_CODES,
  TLS_FAILURE_CODES,
} from "./network-errors.js";
import { cleanErrorText } from "./redact-secrets.js";

export type ErrorCode =
  | "invalid_request" // 400: bad JSON, bad field, unsupported value
  | "context_length_exceeded" // 400: the conversation does not fit the model
  | "content_filter" // 400: the upstream refused on policy grounds
  | "authentication" // 401
  | "permission_denied" // 403
  | "not_found" // 404: unknown model or route
  | "payload_too_large" // 413
  | "unsupported_media_type" // 415
  | "rate_limited" // 429
  | "canceled" // 499: the client went away
  | "internal" // 500
  | "upstream_error" // 502: an upstream answered with something unusable
  | "unavailable" // 503: nothing could serve the request
  | "overloaded" // 529 at Anthropic, 503 elsewhere
  | "timeout"; // 504

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  context_length_exceeded: 400,
  content_filter: 400,
  authentication: 401,
  permission_denied: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  canceled: 499,
  internal: 500,
  upstream_error: 502,
  unavailable: 503,
  overloaded: 503,
  timeout: 504,
};

const RETRYABLE = new Set<ErrorCode>(["rate_limited", "upstream_error", "unavailable", "overloaded", "timeout"]);

/**
 * The longest message an error carries, in characters: room for an exhausted route's every attempt,
 * while what a message quotes from a client (a megabyte-long model name in a 404) is not answered
 * and logged whole for every request that sends it.
 */
export const MAX_ERROR_MESSAGE = 16 * 1024;

export function statusForCode(code: ErrorCode): number {
  return STATUS[code];
}

/** Maps an upstream HTTP status to the code that describes it. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return "invalid_request";
    case 401:
      return "authentication";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 408:
      return "timeout";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 429:
      return "rate_limited";
    // An upstream's 499 (a proxy's "client closed request") is about its own client, a hop between
    // tandem and the model: tandem's client is still there, and another target can answer it.
    case 499:
      return "upstream_error";
    case 503:
      return "unavailable";
    case 504:
      return "timeout";
    case 529:
      return "overloaded";
    default:
      // A redirect (a base URL on http:// for an https:// API, a moved path) or any status outside
      // 4xx is the target's misconfiguration, never the client's bad request.
      return status >= 400 && status < 500 ? "invalid_request" : "upstream_error";
  }
}

/**
 * GatewayError.reason of a valid request that this target's model cannot serve, where another target
 * may (a suffix to a local model without fill-in-the-middle tokens): a 400 from a lone target, and
 * the route's next target otherwise (router/retry-policy.ts). OpenAI's own code for a value a model
 * does not support, which OpenAI clients see as the error's `code`.
 */
export const UNSUPPORTED_BY_TARGET = "unsupported_value";

export interface GatewayErrorOptions {
  /** Override the HTTP status (e.g. pass an upstream's 529 or 409 on unchanged). */
  status?: number;
  /** The request field at fault, as the client named it (`messages[0].content`). */
  param?: string;
  retryable?: boolean;
  /** From an upstream's Retry-After, in milliseconds. */
  retryAfterMs?: number;
  /** The target (`provider/model`) whose upstream failed, when there was one. */
  target?: string;
  /**
   * A finer reason than `code`, as a stable snake_case word that clients' own APIs use (`unknown_url`,
   * `previous_response_not_found`): dialects whose error shape has a code field (OpenAI's `code`)
   * show it there instead of the one they derive from `code`. Default: none.
   */
  reason?: string;
  /** The error as an upstream on a client's own wire gave it, for that dialect to show as it came (see UpstreamWireError). */
  upstream?: UpstreamWireError;
  cause?: unknown;
}

/**
 * An upstream's own error fields on the OpenAI wire (`type`, a string `code`), which an OpenAI client
 * is shown as they came (`insufficient_quota`, `unsupported_value`) in place of the ones tandem
 * derives from its code: clients branch on them. `code` is null when the upstream's error object
 * had a type but no string code (OpenAI's own 500s say `"code": null`): the client sees null too.
 */
export interface UpstreamWireError {
  wire: "openai";
  type?: string;
  code?: string | null;
}

/** What a GatewayError was made with, but its message and cause: for one that says the same in other words. */
export function errorOptionsOf(error: GatewayError): GatewayErrorOptions {
  return {
    status: error.status,
    retryable: error.retryable,
    ...(error.param !== undefined && { param: error.param }),
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
    ...(error.target !== undefined && { target: error.target }),
    ...(error.reason !== undefined && { reason: error.reason }),
    ...(error.upstream !== undefined && { upstream: error.upstream }),
  };
}

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly target: string | undefined;
  readonly reason: string | undefined;
  readonly upstream: UpstreamWireError | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    // Every message is cleaned as it is made: whatever built it (an upstream's error body, a stream
    // parser, a URL in a network error), no key and no home directory can reach a client, a log line,
    // /v1/status or the store through it.
    // Cleaned whole, then cut: a cut first could leave the start of a key that no longer matches.
    const clean = cleanErrorText(message);
    super(
      clean.length > MAX_ERROR_MESSAGE ? `${clean.slice(0, MAX_ERROR_MESSAGE)}…` : clean,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.param = options.param;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.target = options.target;
    this.reason = options.reason;
    this.upstream = options.upstream;
  }

  /**
   * Normalises anything thrown into a GatewayError; never throws. Decided on structured fields only
   * (the error's name and code, never its message): aborts are `canceled`, time limits `timeout`,
   * the network failures of network-errors.ts `unavailable`, an upstream's broken HTTP (undici's
   * parser errors, headers past its limit) `upstream_error`; anything else thrown inside tandem
   * (a TypeError, a RangeError, Node's `ERR_INVALID_ARG_TYPE`) is `internal`: not retried, and
   * never held against a target, its breaker or a key (see router/retry-policy.ts).
   */
  static from(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    if (err instanceof Error) {
      const code = codeOf(err) ?? codeOf(err.cause);
      if (err.name === "AbortError" || (code !== undefined && ABORT_CODES.has(code))) {
        return new GatewayError("canceled", "The request was canceled", { cause: err });
      }
      if (err.name === "TimeoutError" || (code !== undefined && TIMEOUT_CODES.has(code))) {
        return new GatewayError("timeout", `Upstream timed out (${code ?? err.name})`, { cause: err });
      }
      if (code !== undefined && NETWORK_FAILURE_CODES.has(code)) {
        // Connection refused/reset, DNS failure, socket closed mid-body: the upstream is unreachable.
        return new GatewayError("unavailable", `Upstream unreachable (${code})`, { cause: err });
      }
      if (code !== undefined && TLS_FAILURE_CODES.has(code)) {
        return new GatewayError("unavailable", `Upstream TLS failure (${code})`, { cause: err, retryable: false });
      }
      const name = PROTOCOL_FAILURE_NAMES.has(err.name) ? err.name : nameOf(err.cause);
      if ((code !== undefined && PROTOCOL_FAILURE_CODES.has(code)) || name !== undefined) {
        return new GatewayError(
          "upstream_error",
          `Upstream answered with broken HTTP (${code ?? name}: ${err.message.slice(0, 200)})`,
          {
            cause: err,
            retryable: false,
          },
        );
      }
      return new GatewayError("internal", (err.message || "Internal error").slice(0, 1000), { cause: err });
    }
    return new GatewayError("internal", String(err).slice(0, 1000), { cause: err });
  }
}

/** The name of an error that is one of undici's HTTP parser failures (see PROTOCOL_FAILURE_NAMES). */
function nameOf(err: unknown): string | undefined {
  const name = err instanceof Error ? err.name : undefined;
  return name !== undefined && PROTOCOL_FAILURE_NAMES.has(name) ? name : undefined;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/** How far findInCauses follows an error's causes (a cycle of causes ends there too). */
const MAX_CAUSE_DEPTH = 8;

/**
 * The first of an error and the errors it was made from (its `cause`, a few levels deep) that `pick`
 * answers for: a layer that words an error its own way keeps what the error underneath said.
 */
export function findInCauses<T>(error: unknown, pick: (at: object) => T | undefined): T | undefined {
  let at: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof at === "object" && at !== null; depth++) {
    const found = pick(at);
    if (found !== undefined) return found;
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}
