import { errorExcerpt, GatewayError } from "../../core/index.js";
import { ERROR_EXCERPT_CHARS, type MappedUpstreamError } from "../http/index.js";

/**
 * Anthropic's `error.type` values (API reference "Errors", and the SDK's ErrorType union) and the
 * code and status each stands for.
 */
const BY_TYPE: Record<string, MappedUpstreamError & { status: number }> = {
  invalid_request_error: { code: "invalid_request", status: 400 },
  authentication_error: { code: "authentication", status: 401 },
  // Credit spent: not worth retrying on this key; another key (or target) may have credit.
  billing_error: { code: "rate_limited", retryable: false, status: 402 },
  permission_error: { code: "permission_denied", status: 403 },
  not_found_error: { code: "not_found", status: 404 },
  request_too_large: { code: "payload_too_large", status: 413 },
  rate_limit_error: { code: "rate_limited", status: 429 },
  api_error: { code: "upstream_error", status: 500 },
  timeout_error: { code: "timeout", status: 504 },
  overloaded_error: { code: "overloaded", status: 529 },
};

/**
 * An Anthropic error (`{"type":"error","error":{"type","message"}}`) -> the code it stands for, from
 * its `error.type`. Anthropic has no type of its own for a conversation that does not fit: it is an
 * `invalid_request_error` whose message says "prompt is too long" (the input alone is over the window)
 * or "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000" (the input and the
 * room asked for the answer are). Reading the message is allowed there and only there, inside that
 * one type, since nothing structured tells it apart.
 */
const CONTEXT_MESSAGE = /prompt is too long|input length and `?max_tokens`? exceed context limit/i;

export function mapAnthropicError(type: string | null | undefined, message: string | null | undefined) {
  const mapped = type ? BY_TYPE[type] : undefined;
  if (mapped?.code === "invalid_request" && CONTEXT_MESSAGE.test(message ?? "")) {
    return { code: "context_length_exceeded" as const, status: 400 };
  }
  return mapped;
}

/** The mapper an UpstreamClient uses for Anthropic answers that are not 2xx. */
export function mapAnthropicErrorResponse(_status: number, body: unknown): MappedUpstreamError | undefined {
  const error = (body as { error?: unknown } | undefined)?.error as { type?: unknown; message?: unknown } | undefined;
  if (typeof error !== "object" || error === null || typeof error.type !== "string") return undefined;
  const mapped = mapAnthropicError(error.type, typeof error.message === "string" ? error.message : undefined);
  if (!mapped) return undefined;
  return { code: mapped.code, ...(mapped.retryable !== undefined && { retryable: mapped.retryable }) };
}

/**
 * The GatewayError for an `event: error` that arrives inside a 200 stream (Anthropic sends
 * overloaded_error this way under load). The code follows the error's type, as the status would
 * have for a non-streamed answer, so an overload is retryable.
 */
export function anthropicStreamError(type: string | null | undefined, message: string | null | undefined, target: string) {
  const mapped = mapAnthropicError(type, message) ?? { code: "upstream_error" as const, status: 502 };
  const text = errorExcerpt(message || type || "error event in the stream", ERROR_EXCERPT_CHARS);
  return new GatewayError(mapped.code, `${target}: ${text}`, {
    status: mapped.status,
    target,
    ...("retryable" in mapped && mapped.retryable !== undefined && { retryable: mapped.retryable }),
  });
}
