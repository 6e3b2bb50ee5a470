import type { GatewayError } from "../core/index.js";
import { TrackedTargets } from "./tracked-targets.js";

const ALPHA = 0.2;

/** What is kept per target: times as epoch milliseconds (rendered only when a snapshot is asked for). */
interface Counters {
  requests: number;
  failures: number;
  errorRate: number;
  ttftMs: number | undefined;
  latencyMs: number | undefined;
  lastError: { code: string; message: string; status: number; at: number } | undefined;
  lastSuccessAt: number | undefined;
  /** The most recent times to first event, a ring of TTFT_SAMPLES. */
  ttftSamples: number[];
  ttftNext: number;
}

const TTFT_SAMPLES = 64;
/** Fewer samples than this say too little about a target's distribution. */
const MIN_TTFT_SAMPLES = 16;

function ewma(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + ALPHA * (sample - previous);
}

export interface TargetSnapshot {
  requests: number;
  failures: number;
  /** Exponentially weighted share of recent attempts that failed (0..1). */
  errorRate: number;
  /** EWMA of time to first event, ms. */
  ttftMs: number | undefined;
  /** EWMA of whole-answer duration, ms. */
  latencyMs: number | undefined;
  lastError: { code: string; message: string; status: number; at: string } | undefined;
  lastSuccessAt: string | undefined;
}

/**
 * Passive health signals from live traffic, per target: per tracked name (TrackedTargets), so a
 * provider's untracked names share one `<provider>/other` entry and clients cannot grow the map.
 */
export class TargetStats {
  readonly #targets: TrackedTargets;
  readonly #byTarget = new Map<string, Counters>();

  /** `targets`: which names get an entry of their own; by default every name (a router's parts tested alone). */
  constructor(targets: TrackedTargets = new TrackedTargets()) {
    this.#targets = targets;
  }

  #get(name: string): Counters {
    const target = this.#targets.name(name);
    let s = this.#byTarget.get(target);
    if (!s) {
      s = {
        requests: 0,
        failures: 0,
        errorRate: 0,
        ttftMs: undefined,
        latencyMs: undefined,
        lastError: undefined,
        lastSuccessAt: undefined,
        ttftSamples: [],
        ttftNext: 0,
      };
      this.#byTarget.set(target, s);
    }
    return s;
  }

  firstEvent(target: string, ms: number): void {
    const s = this.#get(target);
    s.ttftMs = ewma(s.ttftMs, ms);
    s.ttftSamples[s.ttftNext] = ms;
    s.ttftNext = (s.ttftNext + 1) % TTFT_SAMPLES;
  }

  /** A percentile (0-100) of the target's recent times to first event; undefined with too few samples. */
  ttftPercentile(target: string, p: number): number | undefined {
    const samples = this.#byTarget.get(this.#targets.name(target))?.ttftSamples;
    if (!samples || samples.length < MIN_TTFT_SAMPLES) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }

  success(target: string, ms: number): void {
    const s = this.#get(target);
    s.requests++;
    s.errorRate = ewma(s.errorRate, 0);
    s.latencyMs = ewma(s.latencyMs, ms);
    s.lastSuccessAt = Date.now();
  }

  failure(target: string, error: GatewayError): void {
    const s = this.#get(target);
    s.requests++;
    s.failures++;
    s.errorRate = ewma(s.errorRate, 1);
    s.lastError = { code: error.code, message: error.message, status: error.status, at: Date.now() };
  }

  /** Every tracked target that has seen traffic (or been asked for), and each provider's `<provider>/other` that has. */
  targets(): string[] {
    return [...this.#byTarget.keys()];
  }

  snapshot(target: string): TargetSnapshot {
    const s = this.#get(target);
    // Field by field: the counters' working parts (the ring of recent TTFT samples) are not status.
    return {
      requests: s.requests,
      failures: s.failures,
      errorRate: s.errorRate,
      ttftMs: s.ttftMs,
      latencyMs: s.latencyMs,
      lastError: s.lastError && { ...s.lastError, at: new Date(s.lastError.at).toISOString() },
      lastSuccessAt: s.lastSuccessAt === undefined ? undefined : new Date(s.lastSuccessAt).toISOString(),
    };
  }

  /** The time-to-first-event estimate alone (the router asks for it per request). */
  ttftMs(target: string): number | undefined {
    return this.#byTarget.get(this.#targets.name(target))?.ttftMs;
  }
}
