import { parseSamples } from "./prometheus-text.js";

const REQUESTS = "tandem_requests_total";
const TTFT_SUM = "tandem_time_to_first_token_seconds_sum";
const TTFT_COUNT = "tandem_time_to_first_token_seconds_count";
const TOKENS = "tandem_tokens_total";
const NAMES = new Set([REQUESTS, TTFT_SUM, TTFT_COUNT, TOKENS]);

/** How many points the chart keeps: at one poll every 2 s, the last 5 minutes. */
export const HISTORY_POINTS = 150;

/** The counters read from one /metrics answer. */
export interface CounterReading {
  /** Seconds since the epoch, when it was read. */
  at: number;
  /** Requests that named a model and reached a target (the console's own polls have none). */
  modelRequests: number;
  ttftSeconds: number;
  ttftCount: number;
  /** Tokens per target since tandem started: input and output. */
  tokens: Map<string, { input: number; output: number }>;
}

export function readCounters(metricsText: string, at: number): CounterReading {
  const reading: CounterReading = { at, modelRequests: 0, ttftSeconds: 0, ttftCount: 0, tokens: new Map() };
  for (const sample of parseSamples(metricsText, NAMES)) {
    if (sample.name === REQUESTS) {
      if (sample.labels.target) reading.modelRequests += sample.value;
    } else if (sample.name === TTFT_SUM) reading.ttftSeconds += sample.value;
    else if (sample.name === TTFT_COUNT) reading.ttftCount += sample.value;
    else {
      const target = sample.labels.target ?? "";
      const entry = reading.tokens.get(target) ?? { input: 0, output: 0 };
      if (sample.labels.direction === "input") entry.input += sample.value;
      else if (sample.labels.direction === "output") entry.output += sample.value;
      reading.tokens.set(target, entry);
    }
  }
  return reading;
}

/** The chart's columns, as uPlot takes them: times, requests per second, mean time to first token (ms). */
export type TrafficSeries = [number[], (number | null)[], (number | null)[]];

/** Rates between successive readings, kept in the page (the server keeps no history). */
export class TrafficHistory {
  #last: CounterReading | undefined;
  readonly #times: number[] = [];
  readonly #rates: (number | null)[] = [];
  readonly #ttft: (number | null)[] = [];

  add(reading: CounterReading): void {
    const last = this.#last;
    this.#last = reading;
    if (!last) return;
    const seconds = reading.at - last.at;
    const requests = reading.modelRequests - last.modelRequests;
    // A counter that went down: tandem restarted; this interval says nothing.
    if (seconds <= 0 || requests < 0 || reading.ttftCount < last.ttftCount) return;
    const firstEvents = reading.ttftCount - last.ttftCount;
    this.#times.push(reading.at);
    this.#rates.push(requests / seconds);
    this.#ttft.push(firstEvents > 0 ? ((reading.ttftSeconds - last.ttftSeconds) / firstEvents) * 1000 : null);
    if (this.#times.length > HISTORY_POINTS) {
      this.#times.shift();
      this.#rates.shift();
      this.#ttft.shift();
    }
  }

  get latest(): CounterReading | undefined {
    return this.#last;
  }

  series(): TrafficSeries {
    return [[...this.#times], [...this.#rates], [...this.#ttft]];
  }
}
