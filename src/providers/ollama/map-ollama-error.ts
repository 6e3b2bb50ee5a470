import { codeForStatus, type ErrorCode, errorExcerpt, GatewayError } from "../../core/index.js";
import { ERROR_EXCERPT_CHARS, type MappedUpstreamError } from "../http/index.js";

/*
 * Ollama's errors are `{"error": "<text>"}` with no code or type (api/types.go StatusError), so
 * this is the one provider whose errors are read from their words: a too-long conversation, a
 * rate limit or a refused key (Ollama's cloud models and authenticating proxies) by phrase, the
 * rest by HTTP status.
 */
const CONTEXT = /context (length|window)|too many tokens|exceeds? (the )?(maximum )?context/i;
const RATE_LIMIT = /rate limit|too many requests|usage limit/i;
const UNAUTHORIZED = /unauthori[sz]ed|invalid api key/i;
/** Ollama's 503 when its queue is full (server.ErrMaxQueue, OLLAMA_MAX_QUEUE): busy, not down. */
const BUSY = /server busy|maximum pending requests/i;

/**
 * An `{"error": "..."}` line inside a 200 stream -> GatewayError. Ollama writes these when the
 * model runner fails after the headers went out (runner crash, out of memory, an upstream error
 * from a cloud model), so the wire has only text: the code is read from it. Anything not
 * recognisably the request's own fault is a retryable server-side failure.
 */
export function mapOllamaStreamError(message: string, target: string): GatewayError {
  return new GatewayError(codeForStreamError(message), `${target}: ${errorExcerpt(message, ERROR_EXCERPT_CHARS)}`, { target });
}

/** The mapper an UpstreamClient uses for Ollama answers that are not 2xx: the status, refined by the words. */
export function mapOllamaErrorResponse(status: number, _body: unknown, message: string): MappedUpstreamError | undefined {
  const code = codeForStatus(status);
  if (code === "invalid_request" && CONTEXT.test(message)) return { code: "context_length_exceeded" };
  // As an OpenAI upstream's `server_is_overloaded`: the client hears "overloaded" (529 to Anthropic
  // clients), not that the server is unavailable.
  if (status === 503 && BUSY.test(message)) return { code: "overloaded" };
  return undefined;
}

function codeForStreamError(message: string): ErrorCode {
  if (CONTEXT.test(message)) return "context_length_exceeded";
  if (RATE_LIMIT.test(message)) return "rate_limited";
  if (UNAUTHORIZED.test(message)) return "authentication";
  return "upstream_error";
}
