/**
 * Timeouts that do not count the time tandem's own event loop was held up. A time limit on someone
 * else (an upstream's first token, a client's body) is meant to measure them: when tandem itself is
 * busy for seconds (a large request's work, many at once, a loaded machine), the upstream's answer or
 * the client's bytes sit unread in the socket, and a plain timer that comes due meanwhile fires before
 * that I/O is read (timers run first in each turn of the loop). Four large bodies at once once made
 * every attempt time out "with no first token" from an upstream that had never been sent the request,
 * opening its breaker; a client that had sent its whole body got a 408.
 *
 * A watcher notes how late it runs: time the loop was held up beyond the watcher's period. A
 * LoopTimeout that comes due checks how much of that stall fell within its own span and, if any did,
 * waits that much longer (the I/O read meanwhile may settle what it waits for), so it fires only once
 * its span has passed with the loop free to read.
 */

/** How often the watcher runs while any LoopTimeout is armed. */
const WATCH_MS = 50;
/** Stalls shorter than this are the loop's ordinary jitter, not counted. */
const JITTER_MS = 20;

let stalled = 0;
let lastRun = 0;
let watcher: NodeJS.Timeout | undefined;
let armed = 0;

function watch(): void {
  const now = performance.now();
  const late = now - lastRun - WATCH_MS;
  if (late > JITTER_MS) stalled += late;
  lastRun = now;
  // Stopped here, a period after the last LoopTimeout was cleared, not by the clear itself: a server
  // answering one request after another would otherwise make and clear an interval for each.
  if (armed === 0) {
    clearInterval(watcher);
    watcher = undefined;
  }
}

/**
 * Milliseconds the event loop has been held up so far, as the watcher saw it (while some LoopTimeout
 * is armed, and up to a period after), including a stall still going on that the watcher has not run after yet.
 */
export function loopStalledMs(): number {
  if (watcher === undefined) return stalled;
  const late = performance.now() - lastRun - WATCH_MS;
  return late > JITTER_MS ? stalled + late : stalled;
}

function startWatching(): void {
  if (armed++ > 0 || watcher !== undefined) return;
  lastRun = performance.now();
  watcher = setInterval(watch, WATCH_MS);
  watcher.unref();
}

function stopWatching(): void {
  armed--;
}

/**
 * A one-shot timeout of `ms` that leaves out the time the event loop was stalled (see above). Like a
 * Node timer it can be refreshed (its span starts again) and cleared; it never keeps the process up
 * on its own unless `ref` is left true (the default, as setTimeout's).
 */
export class LoopTimeout {
  readonly #callback: () => void;
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;
  /** loopStalledMs() when the span (re)started. */
  #stalledAtStart = 0;
  #active = false;
  /** Whether #timer is the extra wait for a stall (shorter than the span), not the span itself. */
  #waitingOutStall = false;

  constructor(callback: () => void, ms: number) {
    this.#callback = callback;
    this.#ms = ms;
    this.#start();
  }

  /** Starts the span again from now (a timer's refresh). */
  refresh(): void {
    if (!this.#active) return;
    this.#stalledAtStart = loopStalledMs();
    if (this.#timer !== undefined && !this.#waitingOutStall) {
      this.#timer.refresh();
      return;
    }
    const unref = this.#timer !== undefined && !this.#timer.hasRef();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#due(), this.#ms);
    if (unref) this.#timer.unref();
    this.#waitingOutStall = false;
  }

  clear(): void {
    if (!this.#active) return;
    this.#active = false;
    clearTimeout(this.#timer);
    stopWatching();
  }

  /** Lets the process exit while this is armed (as a timer's unref). */
  unref(): this {
    this.#timer?.unref();
    return this;
  }

  #start(): void {
    this.#active = true;
    startWatching();
    this.#stalledAtStart = loopStalledMs();
    this.#timer = setTimeout(() => this.#due(), this.#ms);
  }

  #due(): void {
    if (!this.#active) return;
    const stalledSince = loopStalledMs() - this.#stalledAtStart;
    if (stalledSince >= 1) {
      // The loop was held up during the span: that time is not the watched party's. Wait it out
      // again, after the I/O that came meanwhile has been read.
      this.#stalledAtStart += stalledSince;
      const unref = this.#timer !== undefined && !this.#timer.hasRef();
      this.#timer = setTimeout(() => this.#due(), Math.ceil(stalledSince));
      if (unref) this.#timer.unref();
      this.#waitingOutStall = true;
      return;
    }
    this.#active = false;
    stopWatching();
    this.#callback();
  }
}
