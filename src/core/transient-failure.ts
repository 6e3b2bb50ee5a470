import { GatewayError } from "./errors.js";

/**
 * Whether an error is a failure of the storage behind a contract, passing or not: the encrypted
 * store's errors (store/store-error.ts) carry a string `code` and a boolean `transient`; callers
 * above the store decide on these fields, never on the class, so they need not import the store.
 */
export function isStoreFailure(err: unknown): err is Error & { code: string; transient: boolean } {
  return (
    err instanceof Error &&
    typeof (err as { transient?: unknown }).transient === "boolean" &&
    typeof (err as { code?: unknown }).code === "string"
  );
}

/**
 * Whether an error is a passing failure of the storage behind a contract (a full disk, an I/O error,
 * a busy file): worth a 503 the client may retry, never a 500.
 */
export function isTransientFailure(err: unknown): err is Error & { code: string; transient: true } {
  return isStoreFailure(err) && err.transient;
}

/**
 * The answer to a request a store failure stopped, in every dialect and in a stream's error event
 * alike: a 503, never a 500. A passing one (a full disk) may be retried shortly; any other (a damaged
 * page) is not retryable. The file's path and SQLite's words stay in the server (the error's cause,
 * for its log), out of the client's answer.
 */
export function storeUnavailable(err: Error & { code: string; transient: boolean }): GatewayError {
  if (err.transient) {
    return new GatewayError("unavailable", `tandem's store cannot be used right now (${err.code}); try again shortly`, {
      cause: err,
      retryAfterMs: 1000,
    });
  }
  return new GatewayError("unavailable", `tandem's store failed (${err.code}); see the server log`, {
    cause: err,
    retryable: false,
  });
}

/**
 * Anything thrown while answering a client, as the error the client gets: storeUnavailable's 503 for
 * a store failure, else GatewayError.from's. Only where an answer is rendered (a route's error
 * handler, a stream's error event): the router keeps GatewayError.from, so a full disk is never held
 * against a target.
 */
export function answerErrorFrom(err: unknown): GatewayError {
  return isStoreFailure(err) ? storeUnavailable(err) : GatewayError.from(err);
}
