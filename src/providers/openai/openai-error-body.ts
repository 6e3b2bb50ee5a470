import { codeForStatus, type ErrorCode, GatewayError } from "../../core/index.js";
import type { OpenAIErrorObjectWire } from "./openai-chat-api.js";

/**
 * The `error` object of an OpenAI-style body -> GatewayError. Used for errors that arrive inside a
 * 200 stream (`data: {"error":{...}}`), which api.openai.com sends when a generation fails after it
 * started. Server and overload errors stay retryable so the router can try again or elsewhere.
 */
export function gatewayErrorFromOpenAIError(error: OpenAIErrorObjectWire, target: string): GatewayError {
  const message = error.message?.trim() || "The upstream reported an error";
  const code = errorCode(error, message);
  return new GatewayError(code, `${target}: ${message}`, {
    target,
    ...(typeof error.code === "number" && error.code >= 400 && error.code <= 599 && { status: error.code }),
    ...(error.param != null && code === "invalid_request" && { param: error.param }),
  });
}

function errorCode(error: OpenAIErrorObjectWire, message: string): ErrorCode {
  if (typeof error.code === "number") return codeForStatus(error.code);
  const code = error.code ?? "";
  const type = error.type ?? "";
  if (code === "rate_limit_exceeded" || code === "insufficient_quota" || type === "requests" || type === "tokens") {
    return "rate_limited";
  }
  if (type.includes("rate_limit")) return "rate_limited";
  if (code === "context_length_exceeded") return "context_length_exceeded";
  if (code === "content_filter" || code === "content_policy_violation") return "content_filter";
  if (code === "server_is_overloaded" || type.includes("overloaded") || /overloaded/i.test(message)) return "overloaded";
  if (type === "service_unavailable_error") return "unavailable";
  if (code === "invalid_api_key" || type === "authentication_error") return "authentication";
  if (type === "invalid_request_error") return "invalid_request";
  // server_error, api_error and anything unknown: the upstream failed mid-answer.
  return "upstream_error";
}
