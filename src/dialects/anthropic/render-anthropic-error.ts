import type { ErrorCode, GatewayError } from "../../core/index.js";
import type { ErrorRendering } from "../shared/index.js";

/** Anthropic's error types (docs "Errors" page and the SDK's ErrorType). */
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

/**
 * `{"type":"error","error":{"type","message","details"?},"request_id"}` with Anthropic's status for the type:
 * overloaded is always 529 (Anthropic's own status, which its SDKs retry), a timeout 504
 * (timeout_error); other codes keep the gateway's status, so an upstream's 429 or 402 reaches the
 * client unchanged. `request_id` is the request's own (its `request-id` header), as Anthropic's
 * errors quote theirs, in an HTTP error and in a stream's error event alike.
 */
export function renderAnthropicError(error: GatewayError, requestId?: string): ErrorRendering {
  const status = error.code === "overloaded" ? 529 : error.status;
  const mapped = TYPE_BY_CODE[error.code];
  const type = mapped === "invalid_request_error" ? (TYPE_BY_STATUS[status] ?? mapped) : mapped;
  // A finer reason (GatewayError.reason) is Anthropic's `details.error_code`, which its SDKs map to an error class.
  const details = error.reason === undefined ? undefined : { error_code: error.reason };
  return {
    status,
    body: {
      type: "error",
      error: { type, message: error.message, ...(details && { details }) },
      ...(requestId !== undefined && { request_id: requestId }),
    },
  };
}
