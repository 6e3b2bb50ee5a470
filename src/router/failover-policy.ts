import { type GatewayError, isEgressAuditError } from "../core/index.js";

/**
 * What the router does after a failed attempt:
 * - `retry`: the same target may succeed soon (connection trouble, 5xx, 429, timeouts, broken
 *   streams), after a backoff, then the next target;
 * - `next`: this target cannot serve this request but another may (the conversation is too long for
 *   its window, its key was refused, its provider is not available) — no point retrying it;
 * - `stop`: the request itself is at fault (a bad field, a policy refusal): every target would say the
 *   same, so the client gets this error as it is;
 * - `canceled`: the client left; nothing more to do.
 */
export type FailoverDecision = "retry" | "next" | "stop" | "canceled";

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
    default:
      return error.retryable ? "retry" : "next";
  }
}

/** Whether a failure says something about the target's health (so it counts for its breaker). */
export function countsAgainstTarget(error: GatewayError): boolean {
  // Nothing was sent: the audit could not be written (tandem's side, not the target's).
  if (isEgressAuditError(error)) return false;
  const decision = failoverDecision(error);
  // A local engine refusing work because its queue is full is busy, not sick.
  if (error.code === "overloaded" && !error.retryable) return false;
  return decision === "retry" || (decision === "next" && error.code !== "context_length_exceeded" && error.code !== "not_found");
}
