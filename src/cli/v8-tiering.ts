import { setFlagsFromString } from "node:v8";

/**
 * V8 flags the server process sets before it serves: optimize a request's hot functions after
 * about a thousand requests instead of several thousand.
 *
 * Each function of a request's path runs about once per request. V8 tiers a function up to its
 * optimizing compiler once it has run through an interrupt budget of bytecode (67,584 bytes by
 * default in Node 20) and, after any of its inline caches last changed, at least 500 more times. A
 * gateway's functions meet new shapes for a while (each dialect, streamed or not, each target), so
 * on defaults tandem was still compiling after 8,000 sequential requests: sampled per 1,000, its CPU
 * per request was 1.18 ms at 1,000–2,000, 0.80 ms at 2,000–3,000 and 0.65 ms from 8,000 on, and its
 * wall time fell likewise. A desktop server may never see 8,000 requests before it restarts. With a
 * quarter of the budget and 100 invocations after an inline cache change, it settled in the second
 * thousand at the same steady CPU per request (bench/warm-up.ts).
 *
 * Set at run time, not on the command line, so `tandem serve` needs no wrapper; both flags are read
 * whenever V8 next sets a function's budget, so functions already loaded follow them too.
 */
export const V8_TIERING_FLAGS = ["--interrupt-budget=16896", "--minimum-invocations-after-ic-update=100"] as const;

export function tierUpSooner(): void {
  for (const flag of V8_TIERING_FLAGS) setFlagsFromString(flag);
}
