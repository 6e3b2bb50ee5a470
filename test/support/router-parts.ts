/**
 * In-memory pieces for unit tests of the router's parts (attempt loop, attempts, continuation):
 * targets backed by scripted providers, and the router's collaborators with nothing behind them.
 * No network, no server: each test drives one part directly.
 */
import { type RouteConfig, routeSchema } from "../../src/config/schema.js";
import {
  type ChatRequest,
  type EmbedResult,
  fromBatches,
  type ProviderChatRequest,
  type StreamEvent,
} from "../../src/core/index.js";
import type { Provider } from "../../src/providers/provider.js";
import { Attempts, type AttemptUsage } from "../../src/router/attempt.js";
import { AttemptLoop } from "../../src/router/attempt-loop.js";
import { Breakers } from "../../src/router/breakers.js";
import type { Catalog, Target } from "../../src/router/catalog.js";
import { Continuation } from "../../src/router/continuation.js";
import { HealthMonitor } from "../../src/router/health-monitor.js";
import { NetworkWatch } from "../../src/router/network-watch.js";
import type { Plan } from "../../src/router/plan.js";
import { DEFAULT_PRIVACY, PrivacyGuard } from "../../src/router/privacy-guard.js";
import { RetryPolicy } from "../../src/router/retry-policy.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { TargetStats } from "../../src/telemetry/target-stats.js";

/** What one call to a scripted target does: events to stream, then (optionally) a failure. */
export type Script = { events?: StreamEvent[]; fail?: Error; failAfter?: Error };

let scriptsInOneRead = false;

/**
 * From now on, scripted targets stream as an HTTP provider does when an answer comes in one network
 * read: every event of a script in one batch (fromBatches, so readers take them with takeReady),
 * its `failAfter` after them. Off (the default): one event at a time, from a generator.
 */
export function streamScriptsInOneRead(on: boolean): void {
  scriptsInOneRead = on;
}

/** A target whose provider plays `scripts` in order (the last one repeats), recording each request. */
export function scriptedTarget(name: string, scripts: Script[], options: { local?: boolean } = {}) {
  const requests: ProviderChatRequest[] = [];
  let call = 0;
  const provider = {
    kind: "openai",
    chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
      requests.push(request);
      const script = scripts[Math.min(call++, scripts.length - 1)] ?? {};
      if (scriptsInOneRead) {
        return fromBatches(
          (async function* () {
            if (script.fail) throw script.fail;
            signal.throwIfAborted();
            yield script.events ?? [];
            if (script.failAfter) throw script.failAfter;
          })(),
        );
      }
      return (async function* () {
        if (script.fail) throw script.fail;
        for (const event of script.events ?? []) {
          signal.throwIfAborted();
          yield event;
        }
        if (script.failAfter) throw script.failAfter;
      })();
    },
    async embed(): Promise<EmbedResult> {
      throw new Error("not scripted");
    },
  } as unknown as Provider;
  const target: Target = {
    name,
    providerName: name.split("/")[0] ?? name,
    provider,
    upstreamModel: name.split("/")[1] ?? name,
    contextWindow: undefined,
    local: options.local ?? false,
  };
  return { target, requests, calls: () => call };
}

/** A plan over the given tiers with a route's settings (retry, timeouts, quality) as in a config file. */
export function planOf(tiers: Target[][], route: Partial<Record<keyof RouteConfig, unknown>> = {}): Plan {
  const policy = routeSchema.parse({ tiers: ["x/y"], ...route });
  return { name: "r", route: "r", tiers, unresolved: [], policy, retry: new RetryPolicy(policy.retry) };
}

/** The router's parts wired as Router wires them, with fresh metrics and stats; `usage` is told each attempt's usage. */
export function routerParts(
  options: {
    breaker?: { failureThreshold: number; cooldownMs: number };
    usage?: (target: string, usage: AttemptUsage) => void;
  } = {},
) {
  const metrics = new Metrics();
  const stats = new TargetStats();
  const health = new HealthMonitor(new Map(), { intervalMs: 0, timeoutMs: 1000 });
  const network = new NetworkWatch();
  const breakers = new Breakers(options.breaker ?? { failureThreshold: 5, cooldownMs: 30_000 }, metrics);
  const catalog = { routes: new Map() } as unknown as Catalog;
  const guard = new PrivacyGuard(catalog, metrics, DEFAULT_PRIVACY, undefined);
  const loop = new AttemptLoop({ stats, metrics, health, network, breakers });
  const attempts = new Attempts({ stats, metrics, health, guard, ...(options.usage && { usage: options.usage }) });
  const continuation = new Continuation({ loop, attempts, metrics, stats, guard, maxAnswerBytes: 1 << 20 });
  return { metrics, stats, health, breakers, loop, attempts, continuation };
}

export const context = (signal: AbortSignal = new AbortController().signal) => ({ signal, headers: {} });

export function chatRequest(stream = true): ChatRequest {
  return { model: "r", stream, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] } as ChatRequest;
}

/** The value of one counter of the metrics registry, or 0. */
export async function counter(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}
