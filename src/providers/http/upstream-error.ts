import {
  codeForStatus,
  type ErrorCode,
  errorExcerpt,
  GatewayError,
  redactSecrets,
  type UpstreamWireError,
} from "../../core/index.js";
import { readTextUpTo } from "./answer-limits.js";
import { withoutByteOrderMark } from "./byte-order-mark.js";
import type { UpstreamResponse } from "./decoded-answer.js";

const MAX_ERROR_BODY = 64 * 1024;
/** How much of an upstream's error text a message carries. */
export const ERROR_EXCERPT_CHARS = 500;

/** What a provider reads from its upstream's error body: the code (and a few options) it stands for. */
export interface MappedUpstreamError {
  code: ErrorCode;
  /** Default: the code's (see core/errors.ts). */
  retryable?: boolean;
  /** The request field the upstream named, when it did. */
  param?: string;
  /** The upstream's own error fields, for a client on its wire (GatewayError.upstream). */
  upstream?: UpstreamWireError;
}

/**
 * A provider's reading of an error answer: its HTTP status, the parsed JSON body (undefined when the
 * body is not JSON: an HTML page, plain text) and the message found in it. Undefined: the status
 * alone decides (codeForStatus).
 */
export type UpstreamErrorMapper = (status: number, body: unknown, message: string) => MappedUpstreamError | undefined;

export interface UpstreamErrorOptions {
  /** Reads the provider's own error fields. Default: the status alone decides. */
  map?: UpstreamErrorMapper | undefined;
  /** Secrets sent with the request (its key headers): masked wherever the upstream echoed them. */
  secrets?: readonly string[] | undefined;
}

/**
 * Reads an upstream's non-2xx answer and turns it into a GatewayError with the same status. The
 * body's text is cleaned of the request's secrets (and every known one) before anything else reads
 * it, and the message keeps only a short excerpt of it.
 */
export async function upstreamErrorFromResponse(
  res: UpstreamResponse,
  target: string,
  options: UpstreamErrorOptions = {},
): Promise<GatewayError> {
  let text = "";
  try {
    // Only the start is read: an upstream's error body can be any size, and it is cut to this anyway.
    text = await readTextUpTo(res.body, MAX_ERROR_BODY);
  } catch {
    // A body that breaks while we read an error is still that error.
  }
  text = redactSecrets(text, options.secrets);
  text = withoutByteOrderMark(text);
  const status = res.statusCode;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const found = body === undefined ? undefined : messageIn(body);
  const redirect = status >= 300 && status < 400;
  const message = redirect
    ? redirectMessage(status, res.headers.location, options.secrets)
    : errorExcerpt(found ?? (htmlText(res, text) || `HTTP ${status}`), ERROR_EXCERPT_CHARS);
  const mapped = redirect ? undefined : options.map?.(status, body, message);
  return new GatewayError(mapped?.code ?? codeForStatus(status), message, {
    // Keep the upstream's status where clients know it (429 stays 429, 529 stays 529 for Anthropic
    // clients); not a 499, which would tell the client that it had gone away.
    status: status >= 400 && status <= 599 && status !== 499 ? status : undefined,
    // The same URL redirects again: no retry on this target, the next one may answer.
    ...(redirect && { retryable: false }),
    // A 409 is a conflict on the upstream's side (OpenAI's "lock timeout"), not the request's fault:
    // retried, as OpenAI's and Anthropic's own SDKs retry it, and a route fails it over.
    ...(status === 409 && { retryable: true }),
    retryAfterMs: parseRetryAfter(res.headers["retry-after"], res.headers["retry-after-ms"]),
    target,
    ...(mapped?.retryable !== undefined && { retryable: mapped.retryable }),
    ...(mapped?.param !== undefined && { param: mapped.param }),
    ...(mapped?.upstream !== undefined && { upstream: mapped.upstream }),
  });
}

/**
 * A redirect is never followed (the key would go with it, wherever it points): the target's base URL
 * is wrong, and the message says where the upstream pointed (its query and credentials left out).
 */
function redirectMessage(
  status: number,
  location: string | string[] | undefined,
  secrets: readonly string[] | undefined,
): string {
  const to = Array.isArray(location) ? location[0] : location;
  let where = "";
  if (to) {
    try {
      const url = new URL(to, "http://upstream.invalid");
      where = url.origin === "http://upstream.invalid" ? url.pathname : `${url.origin}${url.pathname}`;
    } catch {
      where = "";
    }
  }
  const text = `HTTP ${status}: the upstream redirects${where ? ` to ${where}` : ""}; check the provider's baseUrl`;
  return errorExcerpt(redactSecrets(text, secrets), ERROR_EXCERPT_CHARS);
}

/** An HTML error page (a proxy's, a load balancer's) as the text a person would read on it. */
function htmlText(res: UpstreamResponse, text: string): string {
  const type = String(res.headers["content-type"] ?? "");
  if (!type.includes("html") && !/^\s*<(!doctype|html)/i.test(text)) return text.trim();
  return text
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .trim();
}

/** Finds the message in OpenAI (`{error:{message}}`), Anthropic (`{type:"error",error:{message}}`) and Ollama (`{error:"..."}`) bodies. */
export function messageIn(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  const message = (body as { message?: unknown }).message;
  if (typeof message === "string") return message;
  // FastAPI's validation errors (Python servers: `{"detail": [{"loc", "msg"}]}`; Mistral's API puts them in `message`).
  return validationDetail(body) ?? validationDetail(message);
}

/** A FastAPI/pydantic `detail` list as "field: what is wrong" lines (`reasoning_effort: Extra inputs are not permitted`). */
function validationDetail(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | null | undefined)?.detail;
  if (typeof detail === "string") return detail;
  if (!Array.isArray(detail)) return undefined;
  const lines = detail.slice(0, 5).flatMap((item) => {
    const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
    if (typeof msg !== "string") return [];
    const path = Array.isArray(loc) ? loc.filter((part, i) => !(i === 0 && part === "body")).join(".") : "";
    return [path === "" ? msg : `${path}: ${msg}`];
  });
  return lines.length > 0 ? lines.join("; ") : undefined;
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
