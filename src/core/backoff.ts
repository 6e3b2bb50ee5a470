/** How one exponential backoff grows: `baseMs * 2^n`, capped at `maxMs`. */
export interface BackoffOptions {
  /** The delay before the first retry (n = 0), before jitter. */
  baseMs: number;
  /** The cap on the delay, before jitter. Default: none. */
  maxMs?: number;
  /**
   * `full`: a random delay between 0 and the capped value (AWS's "Exponential Backoff and Jitter"),
   * so clients that failed together do not retry together; `none`: the capped value itself, for a
   * single process waiting on its own resource. Default `none`.
   */
  jitter?: "full" | "none";
}

/**
 * The delay before retry number `n` (0 for the first retry) of an exponential backoff. The one
 * formula the router's retries, the store's write retries, the local engine's restarts and the
 * model download's retries share.
 */
export function backoffDelayMs(n: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs ?? Number.POSITIVE_INFINITY, options.baseMs * 2 ** Math.max(0, n));
  return options.jitter === "full" ? Math.round(random() * ceiling) : ceiling;
}
