import { errorOptionsOf, GatewayError } from "./errors.js";

/**
 * A provider's key pool set a key aside because the upstream refused it (401/403) or rate-limited it
 * (429), and another key of the pool is ready: the same request may go to the same target again at
 * once, with that key. The router counts it as an attempt of its own (the attempt log and
 * `x-tandem-attempts` show it) but neither waits, nor spends a retry on it, nor holds it against the
 * target (its breaker and error rate): the key was at fault, not the target, and the pool has already
 * recorded that. Same code, message, status and Retry-After as the upstream's error.
 */
export class KeyRotatedError extends GatewayError {
  /**
   * How many keys the pool holds: a request rotates at most this many times less one on a target,
   * so keys that come back at once (a Retry-After of 0) cannot keep one request going round.
   */
  readonly poolSize: number;

  constructor(error: GatewayError, poolSize: number) {
    super(error.code, error.message, { ...errorOptionsOf(error), cause: error });
    this.poolSize = poolSize;
  }
}

/** A plain boolean, not a type guard: a KeyRotatedError has the shape of any GatewayError. */
export function isKeyRotated(err: unknown): boolean {
  return err instanceof KeyRotatedError;
}

/** The pool size a KeyRotatedError carries; 0 for any other error. */
export function rotatedPoolSize(err: unknown): number {
  return err instanceof KeyRotatedError ? err.poolSize : 0;
}
