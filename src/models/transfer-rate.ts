/**
 * A transfer's speed, smoothed so a progress display does not jitter: an exponential moving
 * average over samples, weighted by the time each covers (half of the weight is on the last
 * `halfLifeMs`).
 */
export class TransferRate {
  readonly #halfLifeMs: number;
  /** Samples closer together than this are merged, so bursts of tiny chunks do not swing the rate. */
  readonly #minIntervalMs: number;
  #lastBytes: number | undefined;
  #lastAt = 0;
  #rate: number | undefined;

  constructor(options: { halfLifeMs?: number; minIntervalMs?: number } = {}) {
    this.#halfLifeMs = options.halfLifeMs ?? 3000;
    this.#minIntervalMs = options.minIntervalMs ?? 200;
  }

  /** Records that `bytes` have been transferred in total by `nowMs`; returns the smoothed bytes per second. */
  sample(bytes: number, nowMs: number): number {
    if (this.#lastBytes === undefined) {
      this.#lastBytes = bytes;
      this.#lastAt = nowMs;
      return this.bytesPerSecond;
    }
    const dt = nowMs - this.#lastAt;
    if (dt < this.#minIntervalMs) return this.bytesPerSecond;
    const instant = ((bytes - this.#lastBytes) * 1000) / dt;
    const weight = 1 - 2 ** (-dt / this.#halfLifeMs);
    this.#rate = this.#rate === undefined ? instant : this.#rate + weight * (instant - this.#rate);
    this.#lastBytes = bytes;
    this.#lastAt = nowMs;
    return this.bytesPerSecond;
  }

  /** The smoothed rate; 0 until two samples far enough apart have been seen. */
  get bytesPerSecond(): number {
    return Math.max(0, this.#rate ?? 0);
  }

  /** Seconds until `remaining` more bytes arrive at the current rate; undefined while the rate is unknown. */
  etaSeconds(remaining: number): number | undefined {
    const rate = this.bytesPerSecond;
    return rate > 0 ? Math.max(0, remaining / rate) : undefined;
  }
}
