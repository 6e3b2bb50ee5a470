import { codeForStatus, type ErrorCode } from "../../core/index.js";
import type { MappedUpstreamError } from "../http/index.js";
import { type OpenAIErrorObjectWire, openAIErrorObjectSchema } from "./openai-chat-api.js";

/**
 * OpenAI's `error.code` values (API reference, error codes guide) and what each stands for. A code
 * says more than the status: a 429 `insufficient_quota` is a spent quota, not a busy minute.
 */
const BY_CODE: Record<string, MappedUpstreamError> = {
  context_length_exceeded: { code: "context_length_exceeded" },
  rate_limit_exceeded: { code: "rate_limited" },
  // Spent: retrying on the same key or target cannot help; the key rests, the router moves on.
  insufficient_quota: { code: "rate_limited", retryable: false },
  billing_hard_limit_reached: { code: "rate_limited", retryable: false },
  credit_balance_exhausted: { code: "rate_limited", retryable: false },
  invalid_api_key: { code: "authentication" },
  account_deactivated: { code: "authentication" },
  model_not_found: { code: "not_found" },
  unsupported_country_region_territory: { code: "permission_denied" },
  content_filter: { code: "content_filter" },
  content_policy_violation: { code: "content_filter" },
  server_is_overloaded: { code: "overloaded" },
  slow_down: { code: "overloaded" },
  server_error: { code: "upstream_error" },
};

/** OpenAI's `error.type` values, read when the code says nothing we know. */
const BY_TYPE: Record<string, MappedUpstreamError> = {
  insufficient_quota: { code: "rate_limited", retryable: false },
  requests: { code: "rate_limited" },
  tokens: { code: "rate_limited" },
  rate_limit_error: { code: "rate_limited" },
  authentication_error: { code: "authentication" },
  permission_error: { code: "permission_denied" },
  request_forbidden: { code: "permission_denied" },
  not_found_error: { code: "not_found" },
  invalid_request_error: { code: "invalid_request" },
  server_error: { code: "upstream_error" },
  api_error: { code: "upstream_error" },
  service_unavailable_error: { code: "unavailable" },
  overloaded_error: { code: "overloaded" },
};

/**
 * Compatible servers that send no string code (vLLM, llama-server, LM Studio put the HTTP status or
 * nothing in `code`) say a conversation is too long only in words; that is the one case read from
 * the message, and only for such servers. The words are theirs: vLLM's "This model's maximum context
 * length is 2048 tokens", llama-server's "request (4476 tokens) exceeds the available context size
 * (4096 tokens)", LM Studio's "...the model is loaded with context length of only 4096 tokens",
 * Anthropic's "input length and `max_tokens` exceed context limit" (through an OpenAI-compatible
 * proxy).
 */
const CONTEXT_MESSAGE =
  /context.{0,20}(length|window|size|limit)|too many tokens|prompt is too long|maximum context|exceeds? (the )?(available )?context/i;

/**
 * Error types that say the conversation does not fit, whatever the code: llama-server's own
 * (`exceed_context_size_error`, with `n_prompt_tokens` and `n_ctx` beside it).
 */
const CONTEXT_TYPES: ReadonlySet<string> = new Set(["exceed_context_size_error"]);

/**
 * An OpenAI-style error object -> the code it stands for, from its `code` and `type` fields.
 * `status` is the HTTP status (undefined for an error inside a 200 stream).
 */
export function mapOpenAIError(error: OpenAIErrorObjectWire | undefined, status: number | undefined): MappedUpstreamError {
  const mapped = mapOpenAIErrorCode(error, status);
  const type = typeof error?.type === "string" && error.type !== "" ? error.type : undefined;
  const code = typeof error?.code === "string" && error.code !== "" ? error.code : undefined;
  if (type === undefined && code === undefined) return mapped;
  // An overflow a compatible server told only in words (or by a type of its own) reaches an OpenAI
  // client as OpenAI tells it, `context_length_exceeded`, which clients react to (compacting their
  // history); the server's own words stay in the message.
  if (mapped.code === "context_length_exceeded" && code === undefined) return mapped;
  // An error object with its own type but no string code keeps its null code (see UpstreamWireError).
  return { ...mapped, upstream: { wire: "openai", ...(type !== undefined && { type }), code: code ?? null } };
}

function mapOpenAIErrorCode(error: OpenAIErrorObjectWire | undefined, status: number | undefined): MappedUpstreamError {
  const httpStatus = typeof error?.code === "number" ? error.code : status;
  const code = typeof error?.code === "string" ? error.code : undefined;
  const byCode = code === undefined ? undefined : BY_CODE[code];
  if (byCode) return withParam(byCode, error);
  if (code === undefined && error?.type && CONTEXT_TYPES.has(error.type)) return { code: "context_length_exceeded" };
  const byType = error?.type ? BY_TYPE[error.type] : undefined;
  const fallback: ErrorCode = httpStatus !== undefined ? codeForStatus(httpStatus) : "upstream_error";
  // A type only refines a status that agrees: `invalid_request_error` is OpenAI's type for many a
  // status (a 500 stays a server error; a 401 `mismatched_organization` or "You didn't provide an API
  // key" is a refused key; a 403, 404, 413 or 429 keeps what its status says).
  const agrees = httpStatus === undefined || byType?.code !== "invalid_request" || fallback === "invalid_request";
  const mapped = byType && agrees ? byType : { code: fallback };
  if (mapped.code === "invalid_request" && code === undefined && CONTEXT_MESSAGE.test(error?.message ?? "")) {
    return { code: "context_length_exceeded" };
  }
  return withParam(mapped, error);
}

/** The mapper an UpstreamClient uses for OpenAI-compatible answers that are not 2xx. */
export function mapOpenAIErrorResponse(status: number, body: unknown): MappedUpstreamError | undefined {
  // vLLM before 0.10 sends its error object bare, not under `error`: `{"object":"error","message",...}`.
  if (isBareErrorObject(body)) body = { error: body };
  const error = (body as { error?: unknown } | undefined)?.error;
  const parsed = typeof error === "object" && error !== null ? openAIErrorObjectSchema.safeParse(error) : undefined;
  if (parsed?.success) return mapOpenAIError(parsed.data, status);
  // `{"error": "text"}` (some compatible servers) or no JSON at all: the status decides.
  const message = typeof error === "string" ? error : "";
  const code = codeForStatus(status);
  return code === "invalid_request" && CONTEXT_MESSAGE.test(message) ? { code: "context_length_exceeded" } : undefined;
}

function withParam(mapped: MappedUpstreamError, error: OpenAIErrorObjectWire | undefined): MappedUpstreamError {
  return mapped.code === "invalid_request" && error?.param != null ? { ...mapped, param: error.param } : mapped;
}

/** vLLM's (and its forks') bare error body: `{"object":"error","message":...,"type":...,"code":400}`. */
function isBareErrorObject(body: unknown): boolean {
  if (typeof body !== "object" || body === null || "error" in body) return false;
  const { object, message } = body as { object?: unknown; message?: unknown };
  return object === "error" && typeof message === "string";
}
