import { GatewayError } from "./errors.js";

/**
 * An attempt cut off by the client's own deadline (`x-tandem-deadline-ms`, shorter than the route's
 * total limit): a timeout to the client, like any other, but one that says nothing about the target
 * (a healthy target that answers in 4 s is not sick because a client would wait only 300 ms), so it
 * is never counted against it (its breaker, its error rate and last error in /v1/status).
 */
export class ClientDeadlineError extends GatewayError {
  constructor(target: string, deadlineMs: number) {
    super("timeout", `${target}: no complete answer within the client's deadline of ${deadlineMs} ms (x-tandem-deadline-ms)`, {
      target,
    });
  }
}

/** A plain boolean, not a type guard: a ClientDeadlineError has the shape of any GatewayError. */
export function isClientDeadline(err: unknown): boolean {
  return err instanceof ClientDeadlineError;
}
