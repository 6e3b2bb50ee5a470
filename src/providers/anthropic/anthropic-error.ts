import { type ErrorCode, GatewayError } from "../../core/index.js";

/** Anthropic's error types (docs "Errors") and the code and status each stands for. */
const BY_TYPE: Record<string, { code: ErrorCode; status: number }> = {
  invalid_request_error: { code: "invalid_request", status: 400 },
  authentication_error: { code: "authentication", status: 401 },
  billing_error: { code: "invalid_request", status: 402 },
  permission_error: { code: "permission_denied", status: 403 },
  not_found_error: { code: "not_found", status: 404 },
  request_too_large: { code: "payload_too_large", status: 413 },
  rate_limit_error: { code: "rate_limited", status: 429 },
  api_error: { code: "upstream_error", status: 500 },
  timeout_error: { code: "timeout", status: 504 },
  overloaded_error: { code: "overloaded", status: 529 },
};

/**
 * The GatewayError for an `event: error` that arrives inside a 200 stream (Anthropic sends
 * overloaded_error this way under load). The code follows the error's type, as the status would
 * have for a non-streamed answer, so an overload is retryable.
 */
export function anthropicStreamError(type: string | null | undefined, message: string | null | undefined, target: string) {
  const mapped = (type ? BY_TYPE[type] : undefined) ?? { code: "upstream_error" as const, status: 502 };
  return new GatewayError(mapped.code, `${target}: ${message || type || "error event in the stream"}`, {
    status: mapped.status,
    target,
  });
}
