/** The prompt both local-engine paths answer (a story opening the tiny stories model continues well). */
export const BENCH_PROMPT = "Once upon a time, there was a little girl named Lily who loved to play outside.";
