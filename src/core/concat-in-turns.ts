/** How long one turn of copying may run before it yields to the event loop, in ms. */
const TURN_MS = 4;

/**
 * `Buffer.concat(chunks, total)` a few milliseconds of copying at a time, yielding to the event loop
 * between them. Joining a 31 MiB upload's chunks touches that much fresh memory in one step; eight
 * concurrent uploads did so one after another and held every other client for seconds.
 */
export async function concatInTurns(chunks: readonly Buffer[], total: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  let deadline = performance.now() + TURN_MS;
  for (const chunk of chunks) {
    at += chunk.copy(out, at);
    if (performance.now() >= deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + TURN_MS;
    }
  }
  return at === total ? out : out.subarray(0, at);
}
