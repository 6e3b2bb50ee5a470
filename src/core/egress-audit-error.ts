import { GatewayError } from "./errors.js";

/** How long a client is asked to wait after a store failure that passes (a full disk): as the store's own 503s. */
const STORE_RETRY_AFTER_MS = 1000;

/**
 * A body was not sent to a cloud target because its egress-audit row could not be committed (the
 * disk is full, the store failed or is closed): tandem sends nothing it cannot record. The target is
 * not at fault, so this never counts against its health or breaker; the router moves on to the next
 * target (a local one can still answer), never retrying the same one (see failoverDecision). 503.
 *
 * `passes`: the store's failure is one that passes by itself (a full disk, an I/O error, a busy lock:
 * StoreError.transient). Then the error is retryable with a Retry-After, so the client is told to
 * come back rather than that nothing can answer until the configuration changes; a damaged or closed
 * store is not.
 */
export class EgressAuditError extends GatewayError {
  constructor(target: string, reason: string, cause?: unknown, passes = false) {
    super(
      "unavailable",
      `${target}: not sent: the egress audit could not be written (${reason}); tandem sends nothing to a cloud target that it cannot record`,
      { retryable: passes, target, cause, ...(passes && { retryAfterMs: STORE_RETRY_AFTER_MS }) },
    );
  }
}

/** A plain boolean, not a type guard: an EgressAuditError has the shape of any GatewayError. */
export function isEgressAuditError(err: unknown): boolean {
  return err instanceof EgressAuditError;
}
