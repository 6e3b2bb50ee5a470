import { GatewayError } from "./errors.js";

/**
 * Whether an error is a passing failure of the storage behind a contract (a full disk, an I/O error,
 * a busy file): worth a 503 the client may retry, never a 500. The encrypted store's errors say so
 * with `transient: true` and a `code` (store/store-error.ts); callers above the store decide on
 * these fields, never on the class, so they need not import the store.
 */
export function isTransientFailure(err: unknown): err is Error & { code: string; transient: true } {
  return (
    err instanceof Error &&
    (err as { transient?: unknown }).transient === true &&
    typeof (err as { code?: unknown }).code === "string"
  );
}

/**
 * The answer to a request a passing store failure stopped (see isTransientFailure): a 503 the client
 * may retry, in every dialect and in a stream's error event alike. The file's path and SQLite's
 * words stay in the server (the error's cause, for its log), out of the client's answer.
 */
export function storeUnavailable(err: Error & { code: string }): GatewayError {
  return new GatewayError("unavailable", `tandem's store cannot be used right now (${err.code}); try again shortly`, {
    cause: err,
    retryAfterMs: 1000,
  });
}

/**
 * Anything thrown while answering a client, as the error the client gets: storeUnavailable's 503 for
 * a passing store failure, else GatewayError.from's. Only where an answer is rendered (a route's
 * error handler, a stream's error event): the router keeps GatewayError.from, so a full disk is never
 * held against a target.
 */
export function answerErrorFrom(err: unknown): GatewayError {
  return isTransientFailure(err) ? storeUnavailable(err) : GatewayError.from(err);
}
