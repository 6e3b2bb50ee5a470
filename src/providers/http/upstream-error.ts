import type { Dispatcher } from "undici";
import { codeForStatus, GatewayError } from "../../core/index.js";
import { readTextUpTo } from "./answer-limits.js";

const MAX_ERROR_BODY = 64 * 1024;

/** Reads an upstream's non-2xx answer and turns it into a GatewayError with the same status. */
export async function upstreamErrorFromResponse(res: Dispatcher.ResponseData, target: string): Promise<GatewayError> {
  let text = "";
  try {
    // Only the start is read: an upstream's error body can be any size, and it is cut to this anyway.
    text = await readTextUpTo(res.body, MAX_ERROR_BODY);
  } catch {
    // A body that breaks while we read an error is still that error.
  }
  const message = extractErrorMessage(text) ?? (text.trim() || `HTTP ${res.statusCode}`);
  const status = res.statusCode;
  let code = codeForStatus(status);
  if (
    code === "invalid_request" &&
    /context.{0,20}(length|window)|too many tokens|prompt is too long|maximum context/i.test(message)
  ) {
    code = "context_length_exceeded";
  }
  return new GatewayError(code, message, {
    // Keep the upstream's status where clients know it (429 stays 429, 529 stays 529 for Anthropic clients).
    status: status >= 400 && status <= 599 ? status : undefined,
    retryAfterMs: parseRetryAfter(res.headers["retry-after"], res.headers["retry-after-ms"]),
    target,
  });
}

/** Finds the message in OpenAI (`{error:{message}}`), Anthropic (`{type:"error",error:{message}}`) and Ollama (`{error:"..."}`) bodies. */
export function extractErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  const message = (body as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
}

/** Retry-After is either delay-seconds or an HTTP date; `retry-after-ms` (OpenAI) is milliseconds. */
export function parseRetryAfter(
  retryAfter: string | string[] | undefined,
  retryAfterMs?: string | string[] | undefined,
): number | undefined {
  const ms = Array.isArray(retryAfterMs) ? retryAfterMs[0] : retryAfterMs;
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}
