import { GatewayError } from "../core/index.js";

/** One upstream attempt that did not produce an answer. */
export interface FailedAttempt {
  target: string;
  /** The error code, or `breaker_open` when the attempt was short-circuited. */
  code: string;
  message: string;
  ms: number;
  /** When the target may take a request again, when it is known: its own Retry-After, or its open breaker's cooldown. */
  retryAfterMs?: number;
}

/** A one-line account of what was tried, for error messages and the degraded header. */
export function describeAttempts(attempts: readonly FailedAttempt[]): string {
  return attempts.map((a) => `${a.target}: ${a.code} after ${Math.round(a.ms)} ms (${a.message})`).join("; ");
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
