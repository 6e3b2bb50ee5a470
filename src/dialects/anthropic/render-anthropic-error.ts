import type { ErrorCode, GatewayError } from "../../core/index.js";
import type { ErrorRendering } from "../shared/index.js";

/**
 * Anthropic's error types (docs "Errors" page and the SDK's ErrorType). `request_too_large` is the
 * page's and the API's for a 413; the SDK's ErrorType (1.12) leaves it out, but reads no type.
 */
export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "conflict_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

const TYPE_BY_CODE: Record<ErrorCode, AnthropicErrorType> = {
  invalid_request: "invalid_request_error",
  context_length_exceeded: "invalid_request_error",
  content_filter: "invalid_request_error",
  unsupported_media_type: "invalid_request_error",
  // Anthropic uses invalid_request_error for 4xx statuses it has no type for.
  canceled: "invalid_request_error",
  authentication: "authentication_error",
  permission_denied: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "request_too_large",
  rate_limited: "rate_limit_error",
  internal: "api_error",
  upstream_error: "api_error",
  unavailable: "api_error",
  overloaded: "overloaded_error",
  timeout: "timeout_error",
};

/** Statuses passed on from an upstream that Anthropic names more precisely than the code does. */
const TYPE_BY_STATUS: Record<number, AnthropicErrorType> = { 402: "billing_error", 409: "conflict_error" };

/** The one status Anthropic answers each error type with (its "Errors" page, and 409 from the SDK's ConflictError). */
const STATUS_BY_TYPE: Record<AnthropicErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * The error's Anthropic type. An upstream's own 529 is an overload and its 408 or 504 a timeout
 * whatever code its body gave; a retryable `unavailable` (a route whose every target failed, an
 * engine not started yet) is Anthropic's "temporarily overloaded", which its clients wait out and
 * retry; a lasting one (a model that cannot be loaded) is an api_error.
 */
function errorType(error: GatewayError): AnthropicErrorType {
  if (error.status === 529) return "overloaded_error";
  if (error.status === 408 || error.status === 504) return "timeout_error";
  if (error.code === "unavailable" && error.retryable) return "overloaded_error";
  const mapped = TYPE_BY_CODE[error.code];
  return mapped === "invalid_request_error" ? (TYPE_BY_STATUS[error.status] ?? mapped) : mapped;
}

/**
 * `{"type":"error","error":{"type","message","details"?},"request_id"}` with the status Anthropic
 * answers that type with: a status its API never sends (an upstream's 415, 422 or 502, tandem's own
 * 503) is not passed on, since Anthropic's clients read the status as the type (the SDK's error
 * classes, Claude Code's retries on 529); see keepsItsStatus for the exceptions.
 * `x-should-retry` says whether the request may succeed if sent again, as Anthropic's API does (its
 * SDKs read it before the status). `request_id` is the request's own (its `request-id` header), as
 * Anthropic's errors quote theirs, in an HTTP error and in a stream's error event alike.
 */
export function renderAnthropicError(error: GatewayError, requestId?: string): ErrorRendering {
  const type = errorType(error);
  const status = keepsItsStatus(error) ? error.status : STATUS_BY_TYPE[type];
  // A finer reason (GatewayError.reason) is Anthropic's `details.error_code`, which its SDKs map to an error class.
  const details = error.reason === undefined ? undefined : { error_code: error.reason };
  return {
    status,
    body: {
      type: "error",
      error: { type, message: error.message, ...(details && { details }) },
      ...(requestId !== undefined && { request_id: requestId }),
    },
    headers: { "x-should-retry": String(shouldRetry(error, type)) },
  };
}

/**
 * Errors about the client's own request in flight keep their status: a canceled one (499: its client
 * has gone), and a body that did not arrive in time (tandem's own 408, no target asked), which
 * Anthropic's SDKs know as a RequestTimeoutError. So does tandem's own 415 for a body not labelled
 * JSON (DESIGN's desktop safety: a web page's simple request is refused as an unsupported media
 * type in every dialect; an upstream's 415 is still a 400). So does tandem's own 503 `unavailable`: its contract
 * (DESIGN) is that a route whose every tier failed answers 503 or 504 in every dialect, and its
 * store's transient failures are 503s with Retry-After; the type still says overloaded (or api_error when lasting),
 * `x-should-retry` says whether to come back, and Anthropic's SDKs and Claude Code retry any 5xx.
 */
function keepsItsStatus(error: GatewayError): boolean {
  return (
    error.code === "canceled" ||
    (error.target === undefined && (error.status === 408 || error.status === 415)) ||
    (error.code === "unavailable" && error.status === 503)
  );
}

/**
 * Whether the same request may succeed later. A rate limit or an overload always may, after its
 * Retry-After, even when the router would not try that target again at once (a full local model
 * answers `retryable: false` so the route moves on, yet its client should come back).
 */
function shouldRetry(error: GatewayError, type: AnthropicErrorType): boolean {
  return error.retryable || type === "rate_limit_error" || type === "overloaded_error";
}
