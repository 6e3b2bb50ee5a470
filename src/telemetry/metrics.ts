import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { TargetCounter, TargetGauge, TargetHistogram } from "./target-metrics.js";
import { TrackedTargets } from "./tracked-targets.js";

/**
 * The Prometheus metrics of one server (own registry, so several servers can live in one process).
 * Every `target` label is a tracked name (TrackedTargets): a name clients chose that is not tracked is
 * counted under its provider's `<provider>/other`, so clients cannot grow the number of series.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Which target names get series of their own. */
  readonly targets: TrackedTargets;
  // Read when a series is touched, not now: field initializers run before the constructor sets `targets`.
  readonly #label = (target: string): string => this.targets.name(target);

  readonly requests = new TargetCounter(
    {
      name: "tandem_requests_total",
      help: "Client requests answered, by dialect, route, target and HTTP status",
      labelNames: ["dialect", "route", "target", "status"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly requestDuration = new Histogram({
    name: "tandem_request_duration_seconds",
    help: "Time from request to the end of the response",
    labelNames: ["dialect", "stream"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly timeToFirstEvent = new TargetHistogram(
    {
      name: "tandem_time_to_first_token_seconds",
      help: "Time from the upstream request to its first stream event, by target",
      labelNames: ["target"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    },
    this.#label,
  );

  readonly upstreamErrors = new TargetCounter(
    {
      name: "tandem_upstream_errors_total",
      help: "Failed upstream attempts, by target and error code",
      labelNames: ["target", "code"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly tokens = new TargetCounter(
    {
      name: "tandem_tokens_total",
      help: "Tokens reported by upstreams, by target and direction (input/output)",
      labelNames: ["target", "direction"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly attempts = new TargetCounter(
    {
      name: "tandem_attempts_total",
      help: "Upstream attempts, by target and outcome: ok (a chat answer only once it finished), the error code (a stream that broke mid-answer included), abandoned (its reader left before the finish)",
      labelNames: ["target", "outcome"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly retries = new TargetCounter(
    {
      name: "tandem_retries_total",
      help: "Retries of the same target sent after a backoff (not one its breaker stopped during the backoff)",
      labelNames: ["target"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly failovers = new Counter({
    name: "tandem_failovers_total",
    help: "Moves from one target to the next, by route and the error that caused them (an answer given afresh after a broken one included; none after a route's last target)",
    labelNames: ["route", "code"] as const,
    registers: [this.registry],
  });

  readonly degraded = new Counter({
    name: "tandem_degraded_answers_total",
    help: "Degraded answers (each once per reason) by route and reason: lower_tier, mid_stream_switch, exhausted (notice)",
    labelNames: ["route", "reason"] as const,
    registers: [this.registry],
  });

  readonly midStreamSwitches = new Counter({
    name: "tandem_mid_stream_switches_total",
    help: "Streamed answers continued on another target after their stream broke, by route and error code",
    labelNames: ["route", "code"] as const,
    registers: [this.registry],
  });

  readonly qualityFailures = new TargetCounter(
    {
      name: "tandem_quality_failures_total",
      help: "Answers that failed a quality check, by target and check",
      labelNames: ["target", "check"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly hedges = new TargetCounter(
    {
      name: "tandem_hedges_total",
      help: "Hedged attempts started because the first target was slow to its first token, by route and hedge target",
      labelNames: ["route", "target"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly keyRotations = new Counter({
    name: "tandem_key_rotations_total",
    help: "Requests sent again with a provider's next key because the upstream refused (401/403) or rate-limited (429) the one used",
    labelNames: ["provider", "reason"] as const,
    registers: [this.registry],
  });

  readonly spillovers = new TargetCounter(
    {
      name: "tandem_local_spillovers_total",
      help: "Requests sent past a local model whose slots were all busy, to the next target, by route and local target",
      labelNames: ["route", "target"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly privacyDecisions = new Counter({
    name: "tandem_privacy_decisions_total",
    help: "Requests that could leave the machine, by route, resolved sensitivity and the policy applied (allow, redact, local-only)",
    labelNames: ["route", "sensitivity", "policy"] as const,
    registers: [this.registry],
  });

  readonly privacyRefusals = new Counter({
    name: "tandem_privacy_refusals_total",
    help: "Private requests refused because their route has no local target (local-only), by route",
    labelNames: ["route"] as const,
    registers: [this.registry],
  });

  readonly contextFits = new TargetCounter(
    {
      name: "tandem_context_fits_total",
      help: "Conversations shortened to fit a target's context window, by target",
      labelNames: ["target"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly breakerTransitions = new TargetCounter(
    {
      name: "tandem_breaker_transitions_total",
      help: "Circuit breaker state changes, by target",
      labelNames: ["target", "from", "to"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  readonly breakerState = new TargetGauge(
    {
      name: "tandem_breaker_state",
      help: "Circuit breaker state by target: 0 closed, 1 half-open, 2 open",
      labelNames: ["target"] as const,
      registers: [this.registry],
    },
    this.#label,
  );

  /** `targets`: which names get series of their own; by default every name (a router's parts tested alone). */
  constructor(targets: TrackedTargets = new TrackedTargets()) {
    this.targets = targets;
    collectDefaultMetrics({ register: this.registry, prefix: "tandem_" });
  }
}
