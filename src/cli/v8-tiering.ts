import { setFlagsFromString } from "node:v8";

/**
 * V8 flags the server process sets before it serves: optimize a request's hot functions sooner, so
 * that tandem reaches its settled speed in about half the requests (less on a busy machine).
 *
 * Each function of a request's path runs about once per request. V8 tiers a function up to its
 * optimizing compiler once it has run through an interrupt budget of bytecode (67,584 bytes by
 * default in Node 20) and, after any of its inline caches last changed, at least 500 more times. A
 * gateway's functions meet new shapes for a while (each dialect, streamed or not, each target), so
 * tandem takes thousands of requests to settle, and longer on a busy machine, where the compiler's
 * background threads wait for a core. Sequential chat completions, CPU per request (all threads)
 * for each thousand (bench/warm-up.ts, 2 cores):
 *
 * - quiet machine: on V8's defaults 1.26 ms at 1,000–2,000 and 0.81 at 2,000–3,000, settled at about
 *   0.65 from 4,000; with these flags 0.79 and 0.73, settled from 2,000 (the first thousand costs
 *   more: 2.4 ms against 2.0, more of it compiled at once);
 * - under other load (load average 5–6): on the defaults 1.66 ms at 1,000–2,000 and 1.04 at
 *   2,000–3,000, still falling after 8,000; with these flags 0.70 from 1,000 on.
 *
 * The settled cost is the same either way. A desktop server may see only a few thousand requests
 * before it restarts, on a machine busy with other work.
 *
 * Set at run time, not on the command line, so `tandem serve` needs no wrapper; both flags are read
 * whenever V8 next sets a function's budget, so functions already loaded follow them too.
 */
export const V8_TIERING_FLAGS = ["--interrupt-budget=16896", "--minimum-invocations-after-ic-update=100"] as const;

export function tierUpSooner(): void {
  for (const flag of V8_TIERING_FLAGS) setFlagsFromString(flag);
}
