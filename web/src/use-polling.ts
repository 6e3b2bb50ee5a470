import { useEffect, useRef } from "preact/hooks";

/**
 * Calls `tick` now and then every `intervalMs` after each call settles (never two at once), while
 * the tab is visible; once only when `intervalMs` is undefined. Aborts the call under way when the
 * component goes away or `deps` change.
 */
export function usePolling(
  tick: (signal: AbortSignal) => Promise<void>,
  intervalMs: number | undefined,
  deps: readonly unknown[],
): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      if (!document.hidden || intervalMs === undefined) {
        try {
          await latest.current(controller.signal);
        } catch {
          // the tick reports its own errors; an abort ends the loop below
        }
      }
      if (!controller.signal.aborted && intervalMs !== undefined) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, deps);
}
