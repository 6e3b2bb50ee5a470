import { type ErrorCode, GatewayError } from "../../core/index.js";

/**
 * An `{"error": "..."}` line inside a 200 stream -> GatewayError. Ollama writes these when the
 * model runner fails after the headers went out (runner crash, out of memory, an upstream error
 * from a cloud model), so the wire has only text: the code is read from it. Anything not
 * recognisably the request's own fault is a retryable server-side failure.
 */
export function mapOllamaStreamError(message: string, target: string): GatewayError {
  return new GatewayError(codeForStreamError(message), `${target}: ${message}`, { target });
}

function codeForStreamError(message: string): ErrorCode {
  if (/context (length|window)|too many tokens|exceeds? (the )?(maximum )?context/i.test(message)) {
    return "context_length_exceeded";
  }
  if (/rate limit|too many requests|usage limit/i.test(message)) return "rate_limited";
  if (/unauthori[sz]ed|invalid api key/i.test(message)) return "authentication";
  return "upstream_error";
}
