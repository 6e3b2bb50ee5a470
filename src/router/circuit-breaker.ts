export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  failureThreshold?: number;
  /** How long an open breaker refuses requests before letting one trial through. Default 30000 ms. */
  cooldownMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Called on every state change (metrics, logs). */
  onChange?: (from: BreakerState, to: BreakerState) => void;
}

/**
 * One target's circuit breaker: after `failureThreshold` consecutive failures it opens and
 * short-circuits requests (no upstream call at all) for `cooldownMs`; then it lets a single trial
 * through (half-open): success closes it, failure opens it again for another cooldown.
 */
export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #onChange: ((from: BreakerState, to: BreakerState) => void) | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Milliseconds until an open breaker lets a trial through (0 when it would now). */
  get retryInMs(): number {
    return this.#state === "open" ? Math.max(0, this.#openedAt + this.#cooldownMs - this.#now()) : 0;
  }

  /** Whether a request may go to the target now. A true answer in half-open state is the one trial. */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open") {
      if (this.#now() < this.#openedAt + this.#cooldownMs) return false;
      this.#set("half-open");
    }
    if (this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#trialInFlight = false;
    if (this.#state !== "closed") this.#set("closed");
  }

  failure(): void {
    this.#trialInFlight = false;
    this.#failures++;
    if (this.#state === "half-open" || (this.#state === "closed" && this.#failures >= this.#threshold)) {
      this.#openedAt = this.#now();
      this.#set("open");
    }
  }

  /** The attempt ended without telling us anything about the target (the client left). */
  release(): void {
    this.#trialInFlight = false;
  }

  #set(state: BreakerState): void {
    const from = this.#state;
    this.#state = state;
    this.#onChange?.(from, state);
  }
}
