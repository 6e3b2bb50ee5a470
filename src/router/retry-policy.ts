import type { RouteConfig } from "../config/schema.js";
import {
  backoffDelayMs,
  type GatewayError,
  isClientDeadline,
  isEgressAuditError,
  isKeyRotated,
  isProviderKeyMissing,
  rotatedPoolSize,
  UNSUPPORTED_BY_TARGET,
} from "../core/index.js";

/**
 * The one place that decides what a failed attempt means. The pieces it reads: the route's `retry`
 * settings (config/schema.ts: attempts, baseMs, maxMs), the error's code, `retryable` and
 * `retryAfterMs` (core/errors.ts sets them from each upstream's own fields), whether a key pool has
 * another key ready (core/key-rotated-error.ts), and the backoff formula (core/backoff.ts). The
 * attempt loop (attempt-loop.ts) only carries the decision out.
 */

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

/** What the attempt loop does next, on the same target or another. */
export type NextStep =
  | { action: "canceled" }
  | { action: "stop" }
  | { action: "next" }
  /** The same target at once with the pool's next key: an attempt of its own, not a retry. */
  | { action: "rotate-key" }
  | { action: "retry"; delayMs: number };

/** Errors that are the client's request's fault: they say nothing about a target's health. */
const CLIENT_FAULTS: ReadonlySet<string> = new Set([
  "invalid_request",
  "content_filter",
  "payload_too_large",
  "unsupported_media_type",
]);

export function failoverDecision(error: GatewayError): FailoverDecision {
  // Nothing was sent: the audit could not be written. Another target (a local one needs no audit)
  // may answer; this one would meet the same store at once.
  if (isEgressAuditError(error)) return "next";
  switch (error.code) {
    case "canceled":
      return "canceled";
    case "context_length_exceeded":
    case "authentication":
    case "permission_denied":
    case "not_found":
      return "next";
    case "invalid_request":
      // A valid request this target's model cannot serve (a suffix to a model without FIM tokens).
      return error.reason === UNSUPPORTED_BY_TARGET ? "next" : "stop";
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
 * cancellation, a window too small for this one conversation, an unknown model and a key its pool
 * has already set aside for another (the key was at fault, not the target), a provider tandem has
 * no key for (nothing was sent) and the client's own deadline passing (x-tandem-deadline-ms) do not.
 */
export function countsAgainstTarget(error: GatewayError): boolean {
  if (error.code === "internal" || error.code === "canceled" || CLIENT_FAULTS.has(error.code)) return false;
  // Nothing was sent: the audit could not be written (tandem's side, not the target's).
  if (isEgressAuditError(error)) return false;
  if (isKeyRotated(error)) return false;
  // tandem has no key for the provider: the upstream was never asked (a key added meanwhile is used at once).
  if (isProviderKeyMissing(error)) return false;
  // The client's own deadline passed: the target may well have answered within the route's.
  if (isClientDeadline(error)) return false;
  // A local engine refusing work because its queue is full is busy, not sick.
  if (error.code === "overloaded" && !error.retryable) return false;
  const decision = failoverDecision(error);
  return decision === "retry" || (decision === "next" && error.code !== "context_length_exceeded" && error.code !== "not_found");
}

/**
 * A route's retry policy: per target, up to `attempts` attempts, waiting a random delay up to
 * `min(maxMs, baseMs * 2^n)` between them (full jitter), or the upstream's own Retry-After when it is
 * no longer than `maxMs` and fits in the time left; a key rotation is tried at once and spends no
 * retry.
 */
export class RetryPolicy {
  readonly attempts: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;

  constructor(settings: RouteConfig["retry"], random: () => number = Math.random) {
    this.attempts = settings.attempts;
    this.#baseMs = settings.baseMs;
    this.#maxMs = settings.maxMs;
    this.#random = random;
  }

  /**
   * What follows a failure of retry `n` (0 for the first try) on a target, with `msLeft` of the
   * request's deadline, after `rotations` key rotations on this target in this request.
   */
  afterFailure(error: GatewayError, n: number, msLeft: number, rotations = 0): NextStep {
    const decision = failoverDecision(error);
    if (decision === "canceled" || decision === "stop") return { action: decision };
    if (rotations + 1 < rotatedPoolSize(error)) return { action: "rotate-key" };
    if (decision === "next" || n + 1 >= this.attempts) return { action: "next" };
    // An upstream's Retry-After is honoured when it is short enough to wait for here;
    // a longer one means: try another target now (or let the client wait, if none is left).
    const delayMs =
      error.retryAfterMs ?? backoffDelayMs(n, { baseMs: this.#baseMs, maxMs: this.#maxMs, jitter: "full" }, this.#random);
    if (delayMs > this.#maxMs || delayMs >= msLeft) return { action: "next" };
    return { action: "retry", delayMs };
  }

  /** Whether the failure counts against the target (its breaker, its stats): see countsAgainstTarget. */
  countsAgainstTarget(error: GatewayError): boolean {
    return countsAgainstTarget(error);
  }
}
