/**
 * The longest delay Node's timers take: 2^31-1 ms, about 24.8 days. A longer one does not wait
 * longer but fires after 1 ms (with a TimeoutOverflowWarning), so a setting meant as "no limit" would
 * make every request time out at once: the config refuses any time setting that reaches a timer
 * beyond it, with TIMER_MS_MESSAGE.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const TIMER_MS_MESSAGE = `expected at most ${MAX_TIMER_MS} ms (about 24 days), the longest delay a timer can wait`;
