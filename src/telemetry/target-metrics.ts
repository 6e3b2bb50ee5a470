import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
} from "prom-client";

/** A target's name as its series are labelled (TrackedTargets.name). */
export type TargetLabel = (target: string) => string;

/** A family's label values: its `target` and the others. */
type ByTarget<L extends string> = LabelValues<L> & { target: string };

/*
 * Metric families with a `target` label, whose value goes through TargetLabel first: a name a client
 * chose becomes a series only once it is tracked (see TrackedTargets), so no client can add series
 * without bound. prom-client's own classes are wrapped, not extended: they set `inc` on each instance,
 * which an override would never reach.
 */

export class TargetCounter<L extends string> {
  readonly #family: Counter<L>;
  readonly #label: TargetLabel;

  constructor(configuration: CounterConfiguration<L>, label: TargetLabel) {
    this.#family = new Counter(configuration);
    this.#label = label;
  }

  inc(labels: ByTarget<L>, value?: number): void {
    this.#family.inc({ ...labels, target: this.#label(labels.target) }, value);
  }

  get(): ReturnType<Counter<L>["get"]> {
    return this.#family.get();
  }
}

export class TargetHistogram<L extends string> {
  readonly #family: Histogram<L>;
  readonly #label: TargetLabel;

  constructor(configuration: HistogramConfiguration<L>, label: TargetLabel) {
    this.#family = new Histogram(configuration);
    this.#label = label;
  }

  observe(labels: ByTarget<L>, value: number): void {
    this.#family.observe({ ...labels, target: this.#label(labels.target) }, value);
  }

  get(): ReturnType<Histogram<L>["get"]> {
    return this.#family.get();
  }
}

export class TargetGauge<L extends string> {
  readonly #family: Gauge<L>;
  readonly #label: TargetLabel;

  constructor(configuration: GaugeConfiguration<L>, label: TargetLabel) {
    this.#family = new Gauge(configuration);
    this.#label = label;
  }

  set(labels: ByTarget<L>, value: number): void {
    this.#family.set({ ...labels, target: this.#label(labels.target) }, value);
  }

  get(): ReturnType<Gauge<L>["get"]> {
    return this.#family.get();
  }
}
