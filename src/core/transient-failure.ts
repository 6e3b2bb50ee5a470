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
