import { GatewayError } from "./errors.js";

/**
 * A body was not sent to a cloud target because its egress-audit row could not be committed (the
 * disk is full, the store failed or is closed): tandem sends nothing it cannot record. The target is
 * not at fault, so this never counts against its health or breaker; the router moves on to the next
 * target (a local one can still answer). 503, not retried on the same target.
 */
export class EgressAuditError extends GatewayError {
  constructor(target: string, reason: string, cause?: unknown) {
    super(
      "unavailable",
      `${target}: not sent: the egress audit could not be written (${reason}); tandem sends nothing to a cloud target that it cannot record`,
      { retryable: false, target, cause },
    );
  }
}

/** A plain boolean, not a type guard: an EgressAuditError has the shape of any GatewayError. */
export function isEgressAuditError(err: unknown): boolean {
  return err instanceof EgressAuditError;
}
