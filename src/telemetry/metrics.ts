import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The Prometheus metrics of one server (own registry, so several servers can live in one process). */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: "tandem_requests_total",
    help: "Client requests answered, by dialect, route, target and HTTP status",
    labelNames: ["dialect", "route", "target", "status"] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: "tandem_request_duration_seconds",
    help: "Time from request to the end of the response",
    labelNames: ["dialect", "stream"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly timeToFirstEvent = new Histogram({
    name: "tandem_time_to_first_token_seconds",
    help: "Time from the upstream request to its first stream event, by target",
    labelNames: ["target"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: "tandem_upstream_errors_total",
    help: "Failed upstream attempts, by target and error code",
    labelNames: ["target", "code"] as const,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: "tandem_tokens_total",
    help: "Tokens reported by upstreams, by target and direction (input/output)",
    labelNames: ["target", "direction"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "tandem_" });
  }
}
