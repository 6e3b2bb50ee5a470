/** The prompt both local-engine paths answer (a story opening the tiny stories model continues well). */
export const BENCH_PROMPT = "Once upon a time, there was a little girl named Lily who loved to play outside.";

/**
 * The prompt of run `n`: numbered at its start, so no run finds its prompt already evaluated in the
 * engine's context (tandem's engine keeps a sequence's tokens between requests and reuses a matching
 * prefix; so does the direct baseline) and time to first token always includes evaluating it.
 */
export function benchPrompt(n: number): string {
  return `Story ${n}. ${BENCH_PROMPT}`;
}
