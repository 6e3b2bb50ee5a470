import { type GatewayError, isEgressAuditError } from "../core/index.js";

/**
 * What the router does after a failed attempt:
 * - `retry`: the same target may succeed soon (connection trouble, 5xx, 429, timeouts, broken
 *   streams), after a backoff, then the next target;
 * - `next`: this target cannot serve this request but another may (the conversation is too long for
 *   its window, its key was refused, its quota is spent, its provider is not available, or tandem
 *   failed inside while preparing this attempt) — no point retrying it;
 * - `stop`: the request itself is at fault (a bad field, a policy refusal): every target would say the
 *   same, so the client gets this error as it is;
 * - `canceled`: the client left; nothing more to do.
 */
export type FailoverDecision = "retry" | "next" | "stop" | "canceled";

/** Errors that are the client's request's fault: they say nothing about a target's health. */
const CLIENT_FAULTS: ReadonlySet<string> = new Set([
  "invalid_request",
  "content_filter",
  "payload_too_large",
  "unsupported_media_type",
]);

export function failoverDecision(error: GatewayError): FailoverDecision {
  switch (error.code) {
    case "canceled":
      return "canceled";
    case "context_length_exceeded":
    case "authentication":
    case "permission_denied":
    case "not_found":
      return "next";
    case "invalid_request":
    case "content_filter":
    case "payload_too_large":
    case "unsupported_media_type":
      return "stop";
    case "internal":
      // A fault of tandem's own (a bug, a body that cannot be built): never retried on the same
      // target; another target's provider code may well succeed.
      return "next";
    default:
      return error.retryable ? "retry" : "next";
  }
}

/**
 * Whether a failure says something about the target's health: counted by its breaker, its error
 * rate in /v1/status and its stats. A client's bad request, tandem's own internal failure, a
 * cancellation, a window too small for this one conversation and an unknown model do not.
 */
export function countsAgainstTarget(error: GatewayError): boolean {
  if (error.code === "internal" || error.code === "canceled" || CLIENT_FAULTS.has(error.code)) return false;
  // Nothing was sent: the audit could not be written (tandem's side, not the target's).
  if (isEgressAuditError(error)) return false;
  // A local engine refusing work because its queue is full is busy, not sick.
  if (error.code === "overloaded" && !error.retryable) return false;
  const decision = failoverDecision(error);
  return decision === "retry" || (decision === "next" && error.code !== "context_length_exceeded" && error.code !== "not_found");
}
