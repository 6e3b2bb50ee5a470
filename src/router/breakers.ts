import type { Metrics } from "../telemetry/metrics.js";
import { type BreakerState, CircuitBreaker } from "./circuit-breaker.js";

const BREAKER_LEVEL: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * One circuit breaker per target, made on first use, its transitions counted in the metrics. Per
 * tracked name (the metrics' TrackedTargets): a provider's untracked names share the breaker of its
 * `<provider>/other`, so clients cannot grow the map.
 */
export class Breakers {
  readonly #options: { failureThreshold: number; cooldownMs: number };
  readonly #metrics: Metrics;
  readonly #byTarget = new Map<string, CircuitBreaker>();

  constructor(options: { failureThreshold: number; cooldownMs: number }, metrics: Metrics) {
    this.#options = options;
    this.#metrics = metrics;
  }

  /** The breaker state of a target, for /v1/status (closed for a target never tried). */
  state(target: string): BreakerState {
    return this.#byTarget.get(this.#metrics.targets.name(target))?.state ?? "closed";
  }

  for(name: string): CircuitBreaker {
    const target = this.#metrics.targets.name(name);
    let breaker = this.#byTarget.get(target);
    if (!breaker) {
      breaker = new CircuitBreaker({
        ...this.#options,
        onChange: (from, to) => {
          this.#metrics.breakerTransitions.inc({ target, from, to });
          this.#metrics.breakerState.set({ target }, BREAKER_LEVEL[to]);
        },
      });
      this.#byTarget.set(target, breaker);
    }
    return breaker;
  }
}
