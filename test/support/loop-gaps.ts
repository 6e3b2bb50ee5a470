/**
 * Measures the longest time this process's event loop went without a turn, with a 10 ms interval
 * timer (monitorEventLoopDelay records nothing for one block that starts and ends between its
 * samples, as a synchronous step right after enable() does). `stop()` lets the loop turn once more,
 * so a block running up to the stop is counted, and answers the longest gap in ms.
 */
export function measureLoopGaps(): { stop(): Promise<number> } {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(tick);
      return Math.max(longest, performance.now() - last);
    },
  };
}
