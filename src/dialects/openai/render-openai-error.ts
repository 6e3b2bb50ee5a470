import type { ErrorCode, GatewayError } from "../../core/index.js";
import type { ErrorRendering } from "../shared/index.js";

/** OpenAI's error object, as api.openai.com sends it in error bodies and in-stream error chunks. */
export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/**
 * `type` and `code` per gateway code, following what api.openai.com sends: an unknown model is
 * 404 `invalid_request_error`/`model_not_found`, a bad key 401 `invalid_request_error`/`invalid_api_key`,
 * a rate limit 429 `requests`/`rate_limit_exceeded`, an overload 503
 * `service_unavailable_error`/`server_is_overloaded`, a server fault 500 `server_error`. Conditions
 * OpenAI itself never reports (a gateway timeout, an unusable upstream) keep tandem's code so clients
 * can tell them apart. An error's `reason` (`unknown_url`, `previous_response_not_found`) is shown as
 * its code when it has one.
 */
const SHAPE: Record<ErrorCode, { type: string; code: string | null }> = {
  invalid_request: { type: "invalid_request_error", code: null },
  context_length_exceeded: { type: "invalid_request_error", code: "context_length_exceeded" },
  content_filter: { type: "invalid_request_error", code: "content_policy_violation" },
  authentication: { type: "invalid_request_error", code: "invalid_api_key" },
  permission_denied: { type: "request_forbidden", code: "permission_denied" },
  not_found: { type: "invalid_request_error", code: "model_not_found" },
  payload_too_large: { type: "invalid_request_error", code: "request_too_large" },
  unsupported_media_type: { type: "invalid_request_error", code: "unsupported_media_type" },
  rate_limited: { type: "requests", code: "rate_limit_exceeded" },
  canceled: { type: "invalid_request_error", code: "request_canceled" },
  internal: { type: "server_error", code: null },
  upstream_error: { type: "server_error", code: "upstream_error" },
  unavailable: { type: "service_unavailable_error", code: "service_unavailable" },
  overloaded: { type: "service_unavailable_error", code: "server_is_overloaded" },
  timeout: { type: "server_error", code: "timeout" },
};

export function openAIErrorObject(error: GatewayError): OpenAIErrorObject {
  const shape = SHAPE[error.code];
  let param = error.param ?? null;
  if (param === null && error.code === "context_length_exceeded") param = "messages";
  // An OpenAI-compatible upstream's own type and code come through as it sent them.
  const upstream = error.upstream?.wire === "openai" ? error.upstream : undefined;
  // A code the upstream gave as null stays null (OpenAI's own 500s say `"code": null`).
  let code = upstream?.code !== undefined ? upstream.code : (error.reason ?? shape.code);
  // OpenAI names the check that failed (`invalid_value`) when it can point at a field.
  if (code === null && error.code === "invalid_request" && param !== null) code = "invalid_value";
  return { message: error.message, type: upstream?.type ?? shape.type, param, code };
}

/**
 * Renders a GatewayError as OpenAI does: `{"error":{"message","type","param","code"}}` with the
 * matching status. A 5xx that sending again cannot change (no key for the provider, a route whose
 * every target lasts as it failed, a model that cannot be loaded) says `x-should-retry: false`, which
 * the openai SDKs read before the status (they retry any 5xx otherwise); an overload never does.
 */
export function renderOpenAIError(error: GatewayError): ErrorRendering {
  // 529 is Anthropic's overload status; OpenAI clients know overload as 503.
  const status = error.status === 529 ? 503 : error.status;
  const rendering: ErrorRendering = { status, body: { error: openAIErrorObject(error) } };
  const headers: Record<string, string> = {};
  if (error.retryAfterMs !== undefined && (status === 429 || status >= 500)) {
    headers["retry-after"] = String(Math.max(0, Math.ceil(error.retryAfterMs / 1000)));
    // The openai SDKs read this first and it keeps sub-second precision.
    headers["retry-after-ms"] = String(Math.max(0, Math.round(error.retryAfterMs)));
  }
  if (status >= 500 && !error.retryable && error.code !== "overloaded") headers["x-should-retry"] = "false";
  if (Object.keys(headers).length > 0) rendering.headers = headers;
  return rendering;
}

/** One SSE frame carrying an error, what OpenAI sends when a stream fails after it has started. */
export function openAIStreamErrorFrame(error: GatewayError): string {
  return `data: ${JSON.stringify({ error: openAIErrorObject(error) })}\n\n`;
}
