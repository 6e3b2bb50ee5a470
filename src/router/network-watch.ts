import { type GatewayError, NETWORK_FAILURE_CODES } from "../core/index.js";

/** Whether a failure was the connection itself (refused, reset, DNS, unreachable), looking through causes. */
export function isNetworkFailure(error: GatewayError): boolean {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 5 && cause; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_FAILURE_CODES.has(code)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

export interface NetworkWatchOptions {
  /** Failures this close together count as "at once". Default 10000. */
  windowMs?: number;
  /** Distinct cloud providers that must fail that way. Default 2 (one failing provider is its own breaker's business). */
  minProviders?: number;
  /** While offline, one request in this interval still tries the cloud, to notice the network is back. Default 5000. */
  trialEveryMs?: number;
  now?: () => number;
}

/**
 * Recognises network loss: several cloud providers failing at the connection level at once, with no
 * cloud success since. While it lasts, routes go local-only (cloud targets are skipped when a local
 * one can serve), except for one trial request every few seconds; the first cloud success ends it.
 */
export class NetworkWatch {
  readonly #failures = new Map<string, number>();
  readonly #windowMs: number;
  readonly #minProviders: number;
  readonly #trialEveryMs: number;
  readonly #now: () => number;
  #offlineSince: number | undefined;
  #lastTrial = 0;

  constructor(options: NetworkWatchOptions = {}) {
    this.#windowMs = options.windowMs ?? 10_000;
    this.#minProviders = options.minProviders ?? 2;
    this.#trialEveryMs = options.trialEveryMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /** Epoch ms since when the network is taken for down; undefined while it is up. */
  get offlineSince(): number | undefined {
    return this.#offlineSince;
  }

  failure(provider: string): void {
    const now = this.#now();
    this.#failures.set(provider, now);
    for (const [name, at] of this.#failures) if (now - at > this.#windowMs) this.#failures.delete(name);
    if (this.#offlineSince === undefined && this.#failures.size >= this.#minProviders) {
      this.#offlineSince = now;
      this.#lastTrial = now;
    }
  }

  success(): void {
    this.#failures.clear();
    this.#offlineSince = undefined;
  }

  /** Whether to skip a cloud target now: offline, and not the moment for a trial request. */
  skipCloud(): boolean {
    if (this.#offlineSince === undefined) return false;
    const now = this.#now();
    if (now - this.#lastTrial >= this.#trialEveryMs) {
      this.#lastTrial = now;
      return false;
    }
    return true;
  }
}
