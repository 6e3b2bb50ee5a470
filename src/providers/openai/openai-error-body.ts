import { errorExcerpt, GatewayError } from "../../core/index.js";
import { ERROR_EXCERPT_CHARS } from "../http/index.js";
import { mapOpenAIError } from "./map-openai-error.js";
import type { OpenAIErrorObjectWire } from "./openai-chat-api.js";

/**
 * The `error` object of an OpenAI-style body -> GatewayError. Used for errors that arrive inside a
 * 200 stream (`data: {"error":{...}}`), which api.openai.com sends when a generation fails after it
 * started, and in a 200 whole answer. Mapped from the object's `code` and `type` (map-openai-error.ts);
 * server and overload errors stay retryable so the router can try again or elsewhere.
 */
export function gatewayErrorFromOpenAIError(error: OpenAIErrorObjectWire, target: string): GatewayError {
  const message = errorExcerpt(error.message?.trim() || "The upstream reported an error", ERROR_EXCERPT_CHARS);
  const mapped = mapOpenAIError(error, undefined);
  return new GatewayError(mapped.code, `${target}: ${message}`, {
    target,
    ...(typeof error.code === "number" && error.code >= 400 && error.code <= 599 && { status: error.code }),
    ...(mapped.param !== undefined && { param: mapped.param }),
    ...(mapped.retryable !== undefined && { retryable: mapped.retryable }),
    ...(mapped.upstream !== undefined && { upstream: mapped.upstream }),
  });
}
