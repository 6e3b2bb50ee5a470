import { GatewayError } from "../core/index.js";
import type { Provider } from "../providers/provider.js";

export interface ProbeResult {
  healthy: boolean;
  /** When the last probe finished (ISO time). */
  at: string;
  ms: number;
  error?: { code: string; message: string };
}

export interface HealthMonitorOptions {
  /** Milliseconds between probe rounds; 0 disables them. */
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Active health checks: probes every provider on an interval (a cheap call: the upstream's model
 * list) so a provider that is down is skipped before a request pays for finding out. A success from
 * live traffic also marks the provider healthy again at once, so a probe that cannot work (a
 * compatible server without a model list) never keeps a working provider out.
 */
export class HealthMonitor {
  readonly #providers: ReadonlyMap<string, Provider>;
  readonly #options: HealthMonitorOptions;
  readonly #results = new Map<string, ProbeResult>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;

  constructor(providers: ReadonlyMap<string, Provider>, options: HealthMonitorOptions) {
    this.#providers = providers;
    this.#options = options;
  }

  /** Runs a first round now, then one every interval (the timer never keeps the process alive). */
  start(): void {
    if (this.#options.intervalMs <= 0 || this.#timer) return;
    void this.probeAll();
    this.#timer = setInterval(() => void this.probeAll(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round over every provider; concurrent calls share the round in progress. */
  probeAll(): Promise<void> {
    this.#round ??= Promise.all([...this.#providers].map(([name, provider]) => this.#probe(name, provider))).then(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #probe(name: string, provider: Provider): Promise<void> {
    const startedAt = performance.now();
    try {
      await provider.probe(AbortSignal.timeout(this.#options.timeoutMs));
      this.#results.set(name, { healthy: true, at: new Date().toISOString(), ms: Math.round(performance.now() - startedAt) });
    } catch (err) {
      const error = GatewayError.from(err);
      // tandem failing inside its own probe says nothing about the upstream: no verdict this round.
      if (error.code === "internal") return;
      this.#results.set(name, {
        healthy: false,
        at: new Date().toISOString(),
        ms: Math.round(performance.now() - startedAt),
        error: { code: error.code, message: error.message },
      });
    }
  }

  /** False only when the last probe of this provider failed and no live request has succeeded since. */
  isHealthy(provider: string): boolean {
    return this.#results.get(provider)?.healthy ?? true;
  }

  /** Live traffic proved the provider works. */
  markHealthy(provider: string): void {
    const last = this.#results.get(provider);
    if (last && !last.healthy) this.#results.set(provider, { healthy: true, at: new Date().toISOString(), ms: 0 });
  }

  result(provider: string): ProbeResult | undefined {
    return this.#results.get(provider);
  }
}
