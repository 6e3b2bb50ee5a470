import { type ErrorMeta, GatewayError, isProviderKeyMissing } from "../core/index.js";

/** One upstream attempt that did not produce an answer. */
export interface FailedAttempt {
  target: string;
  /** The error code, or `breaker_open` when the attempt was short-circuited. */
  code: string;
  message: string;
  ms: number;
  /** When the target may take a request again, when it is known: its own Retry-After, or its open breaker's cooldown. */
  retryAfterMs?: number;
  /** The failure lasts until the configuration changes (see failureLasts): asking again cannot help. */
  lasting?: true;
}

/**
 * Whether a target's failure lasts until someone changes the configuration: the provider does not
 * have the model, tandem has no key for it or its key is refused, the provider or the model cannot
 * be used at all (an `unavailable` that says it is not worth retrying: a model that cannot be
 * loaded, a provider this build cannot run). Waiting and asking again gives the same answer.
 */
export function failureLasts(error: GatewayError): boolean {
  switch (error.code) {
    case "not_found":
    case "authentication":
    case "permission_denied":
      return true;
    case "unavailable":
      return !error.retryable;
    default:
      return false;
  }
}

/** The record of a failed attempt with `error` on `target`, after `ms`. */
export function failedAttempt(target: string, error: GatewayError, ms: number): FailedAttempt {
  return {
    target,
    code: error.code,
    message: error.message,
    ms,
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
    ...(failureLasts(error) && { lasting: true as const }),
  };
}

/**
 * An attempt's outcome as tandem_attempts_total counts it, for one that failed: its error's code,
 * or `abandoned` when the client left (a cancellation), as README names it.
 */
export function attemptOutcome(error: GatewayError): string {
  return error.code === "canceled" ? "abandoned" : error.code;
}

/** A one-line account of what was tried, for error messages and the degraded header. */
export function describeAttempts(attempts: readonly FailedAttempt[]): string {
  return attempts.map((a) => `${a.target}: ${a.code} after ${Math.round(a.ms)} ms (${a.message})`).join("; ");
}

/** What an attempt loop ends with when no target answered. */
export interface NoAnswer {
  failed: readonly FailedAttempt[];
  /** The upstream attempts made (as ResponseMeta.attempts counts them), where known. */
  attempts?: number;
  deadlinePassed: boolean;
  /** The last error a target answered with, if any was tried. */
  lastError?: GatewayError;
}

/** The failures that mean a target could not serve at all (503, 504), as opposed to an answer about the request. */
const UNAVAILABLE: ReadonlySet<string> = new Set(["unavailable", "timeout"]);

/**
 * The failures that are about the request, not the target: skipped as unable to serve it
 * (target-fit.ts: images for a model that reads text only, tools, JSON, a window too small), or
 * refused by it for the same reasons (a conversation too long for its window, a valid value its
 * model cannot serve: an `invalid_request` that reaches this list is one, UNSUPPORTED_BY_TARGET,
 * since any other stops the loop at once). Sending the request again cannot change them.
 */
const REFUSALS: ReadonlySet<string> = new Set(["unsuitable", "invalid_request", "context_length_exceeded"]);

/**
 * The error for a request that no target answered, for the client:
 * - a lone target's own error as it is when it says something about the request or when to come
 *   back (a 400, a 404, a 429 with its Retry-After, a full local queue's 529) or names what the
 *   upstream broke (a 502), or says what tandem lacks to ask it (no key for its provider: the
 *   client is to be told what to set, not to come back as to an overloaded server): a 503 in its
 *   place would make clients retry what cannot succeed;
 * - a 400 (`context_length_exceeded` when that is every target's answer, else `invalid_request`)
 *   when every target refused the request for what it is (REFUSALS), listing why each did: also
 *   never a 503 or 529, which SDKs and agents retry;
 * - a 503 that says not to retry when every failure lasts until the configuration changes
 *   (everyFailureLasts: a model the provider does not list, a provider without a usable key);
 * - else DESIGN's exhausted error (503, or 504 for time limits), listing each attempt. A lone
 *   target that was down or too slow gets it too.
 */
export function noAnswerError(name: string, outcome: NoAnswer): GatewayError {
  const { failed, deadlinePassed, lastError } = outcome;
  const targets = new Set(failed.map((a) => a.target));
  if (targets.size === 1 && lastError && !deadlinePassed && (!UNAVAILABLE.has(lastError.code) || isProviderKeyMissing(lastError)))
    return lastError;
  if (everyTargetRefused(outcome)) {
    const tooLong = failed.every((a) => a.code === "context_length_exceeded");
    return new GatewayError(
      tooLong ? "context_length_exceeded" : "invalid_request",
      `No target of '${name}' can take this request. Attempts: ${describeAttempts(failed)}`,
      { retryable: false },
    );
  }
  if (everyFailureLasts(outcome)) {
    return new GatewayError(
      "unavailable",
      `No answer for '${name}': no target can answer until the configuration changes. Attempts: ${describeAttempts(failed)}`,
      { retryable: false },
    );
  }
  return exhaustedError(name, failed, deadlinePassed);
}

/**
 * Whether no target failed for a reason that passes: each one's failure lasts (failureLasts: a model
 * the provider does not list, no key, a refused key) or is a refusal of the request itself (a cloud
 * target this private request may not reach among them). Then the
 * route's exhaustion is no overload to wait out, but a 503 that says not to retry (Anthropic's
 * `api_error` with `x-should-retry: false`): an SDK or an agent that retried it would ask ten times
 * in vain, where the operator has a configuration to correct.
 */
function everyFailureLasts(outcome: NoAnswer): boolean {
  const { failed } = outcome;
  return (
    !outcome.deadlinePassed &&
    failed.some((a) => a.lasting === true) &&
    failed.every((a) => a.lasting === true || REFUSALS.has(a.code) || a.code === "local_only")
  );
}

/** The x-tandem-* meta of an answer no target gave: the route, the last target tried, the attempts made. */
export function noAnswerMeta(route: string | undefined, outcome: NoAnswer): ErrorMeta {
  const last = outcome.failed.at(-1)?.target;
  return { route, ...(last !== undefined && { target: last }), attempts: outcome.attempts ?? outcome.failed.length };
}

/** Whether every target refused the request for what it is (REFUSALS): no target will ever take it. */
export function everyTargetRefused(outcome: NoAnswer): boolean {
  return !outcome.deadlinePassed && outcome.failed.length > 0 && outcome.failed.every((a) => REFUSALS.has(a.code));
}

/**
 * The error for a request no target could answer: 504 when every real attempt timed out, else 503,
 * listing each attempt (target, what failed, how long), as DESIGN.md promises. When every target
 * said when it may take a request again (its Retry-After, its open breaker's cooldown), the error
 * carries the soonest of those, for the client's Retry-After; when any did not, it carries none.
 */
export function exhaustedError(name: string, attempts: readonly FailedAttempt[], deadlinePassed: boolean): GatewayError {
  const real = attempts.filter((a) => a.code !== "breaker_open");
  const timedOut = deadlinePassed || (real.length > 0 && real.every((a) => a.code === "timeout"));
  const list = attempts.length > 0 ? describeAttempts(attempts) : "no target could be tried";
  const why = deadlinePassed ? "the request's deadline passed" : "every target failed";
  const hints = attempts.map((a) => a.retryAfterMs);
  const retryAfterMs =
    !deadlinePassed && hints.length > 0 && hints.every((ms) => ms !== undefined) ? Math.min(...(hints as number[])) : undefined;
  return new GatewayError(timedOut ? "timeout" : "unavailable", `No answer for '${name}': ${why}. Attempts: ${list}`, {
    retryable: true,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}
