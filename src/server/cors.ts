import type { ServerResponse } from "node:http";

/**
 * Response headers a browser page may read: tandem's metadata, the back-off hints, and what the
 * OpenAI and Anthropic SDKs read of an answer (the request id each names its own way, and
 * `x-should-retry`, which they read before the status).
 */
const EXPOSED_HEADERS = [
  "x-tandem-route",
  "x-tandem-target",
  "x-tandem-attempts",
  "x-tandem-degraded",
  "x-tandem-warnings",
  "x-tandem-tools",
  "x-tandem-memory",
  "x-tandem-sensitivity",
  "retry-after",
  "retry-after-ms",
  "x-should-retry",
  "x-request-id",
  "request-id",
].join(", ");

const ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";

/**
 * Request headers allowed when a preflight does not list its own: what the OpenAI, Anthropic and
 * Ollama SDKs send from a browser, plus tandem's own request headers.
 */
const DEFAULT_ALLOWED_HEADERS = [
  "authorization",
  "content-type",
  "accept",
  "user-agent",
  "x-requested-with",
  "x-api-key",
  "anthropic-version",
  "anthropic-beta",
  "anthropic-dangerous-direct-browser-access",
  "openai-beta",
  "openai-organization",
  "openai-project",
  "x-stainless-arch",
  "x-stainless-async",
  "x-stainless-custom-poll-interval",
  "x-stainless-lang",
  "x-stainless-os",
  "x-stainless-package-version",
  "x-stainless-retry-count",
  "x-stainless-runtime",
  "x-stainless-runtime-version",
  "x-stainless-timeout",
  "x-stainless-helper-method",
  "x-stainless-poll-helper",
  "x-tandem-route",
  "x-tandem-prefer",
  "x-tandem-deadline-ms",
  "x-tandem-sensitivity",
].join(", ");

/** A browser caches a preflight this long (seconds; Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE = "7200";

/** A header list as browsers send it in Access-Control-Request-Headers: tokens and commas. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~, -]{1,2000}$/;

/**
 * Marks an answer to an allowed origin as readable by it. Set on the raw response, so they also reach
 * streamed answers that write their own head.
 */
export function writeCorsHeaders(res: ServerResponse, origin: string): void {
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  res.setHeader("vary", "Origin");
}

/**
 * The answer to an allowed origin's preflight: the methods, the headers it asks for (or the SDKs'
 * list), how long to cache it, and Chrome's private-network permission when asked (a public https
 * page listed in cors.origins calling tandem on localhost).
 */
export function preflightHeaders(origin: string, request: Record<string, string | string[] | undefined>): Record<string, string> {
  const asked = request["access-control-request-headers"];
  const headers: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": typeof asked === "string" && HEADER_LIST.test(asked) ? asked : DEFAULT_ALLOWED_HEADERS,
    "access-control-max-age": PREFLIGHT_MAX_AGE,
    vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
  };
  if (request["access-control-request-private-network"] === "true") headers["access-control-allow-private-network"] = "true";
  return headers;
}

/** A CORS preflight: OPTIONS with an Origin and the method the page means to use. */
export function isPreflight(method: string, headers: Record<string, string | string[] | undefined>): boolean {
  return method === "OPTIONS" && headers["access-control-request-method"] !== undefined;
}
