import { routeSchema } from "../config/schema.js";
import { estimateInputTokens } from "../context/estimate-input-tokens.js";
import { type ChatRequest, type EmbedRequest, GatewayError, type StreamEvent } from "../core/index.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import type { Catalog, Target } from "./catalog.js";
import { Deadline, type Timeouts } from "./deadline.js";
import type { ChatStream, Gateway, ModelEntry, RequestContext, ResponseMeta } from "./gateway.js";

/** Limits for requests that name a target directly (no route): the route defaults of DESIGN.md. */
const DIRECT_TIMEOUTS: Timeouts = routeSchema.parse({ tiers: ["x/y"] }).timeouts;

interface Pick {
  target: Target;
  route: string | undefined;
  timeouts: Timeouts;
}

/**
 * Resolves a model name and runs the request on a target. For now a route is served by the first
 * target of its first tier; failover, retries and breakers build on this attempt loop.
 */
export class Router implements Gateway {
  readonly #catalog: Catalog;
  readonly #stats: TargetStats;
  readonly #metrics: Metrics;

  constructor(catalog: Catalog, stats: TargetStats, metrics: Metrics) {
    this.#catalog = catalog;
    this.#stats = stats;
    this.#metrics = metrics;
  }

  #pick(model: string): Pick {
    const resolved = this.#catalog.resolve(model);
    if (resolved.kind === "target") return { target: resolved.target, route: undefined, timeouts: DIRECT_TIMEOUTS };
    const first = resolved.route.tiers[0]?.[0];
    const slash = first?.indexOf("/") ?? -1;
    const target = first && slash > 0 ? this.#catalog.target(first.slice(0, slash), first.slice(slash + 1)) : undefined;
    if (!target) {
      throw new GatewayError("unavailable", `Route '${resolved.name}' has no usable target (its first tier is '${first}')`, {
        retryable: false,
      });
    }
    return { target, route: resolved.name, timeouts: resolved.route.timeouts };
  }

  async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    const { target, route, timeouts } = this.#pick(request.model);
    const meta: ResponseMeta = { route, target: target.name, attempts: 1, degraded: undefined };
    const deadline = new Deadline(context.signal, timeouts, target.name);
    const startedAt = performance.now();
    const iterator = target.provider
      .chat({ ...request, upstreamModel: target.upstreamModel }, deadline.signal)
      [Symbol.asyncIterator]();
    let first: IteratorResult<StreamEvent>;
    try {
      first = await iterator.next();
      if (first.done)
        throw new GatewayError("upstream_error", `${target.name} ended its answer before it began`, { target: target.name });
    } catch (err) {
      const error = deadline.error(err);
      deadline.dispose();
      this.#failed(target.name, error);
      throw error;
    }
    deadline.tick();
    this.#stats.firstEvent(target.name, performance.now() - startedAt);
    this.#metrics.timeToFirstEvent.observe({ target: target.name }, (performance.now() - startedAt) / 1000);
    return { meta, events: this.#relay(target.name, first.value, iterator, deadline, startedAt) };
  }

  /** Passes events on as they come, watching the idle and total limits, and records the outcome. */
  async *#relay(
    target: string,
    first: StreamEvent,
    iterator: AsyncIterator<StreamEvent>,
    deadline: Deadline,
    startedAt: number,
  ): AsyncGenerator<StreamEvent> {
    let finished = false;
    try {
      yield first;
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        deadline.tick();
        if (next.value.type === "finish") finished = true;
        else if (next.value.type === "usage") this.#countTokens(target, next.value.usage);
        yield next.value;
      }
      if (!finished) throw new GatewayError("upstream_error", `${target} ended its stream without finishing`, { target });
      this.#stats.success(target, performance.now() - startedAt);
    } catch (err) {
      const error = deadline.error(err);
      this.#failed(target, error);
      throw error;
    } finally {
      deadline.dispose();
      if (!finished) await iterator.return?.();
    }
  }

  #countTokens(target: string, usage: { inputTokens?: number; outputTokens?: number }): void {
    // Usage may be reported more than once (Anthropic: input first, output last); count only final values.
    if (usage.outputTokens !== undefined) this.#metrics.tokens.inc({ target, direction: "output" }, usage.outputTokens);
    if (usage.inputTokens !== undefined && usage.outputTokens !== undefined) {
      this.#metrics.tokens.inc({ target, direction: "input" }, usage.inputTokens);
    }
  }

  #failed(target: string, error: GatewayError): void {
    if (error.code === "canceled") return;
    this.#stats.failure(target, error);
    this.#metrics.upstreamErrors.inc({ target, code: error.code });
  }

  async embed(request: EmbedRequest, context: RequestContext) {
    const { target, route, timeouts } = this.#pick(request.model);
    const deadline = new Deadline(context.signal, { ...timeouts, firstTokenMs: timeouts.totalMs }, target.name);
    const startedAt = performance.now();
    try {
      const result = await target.provider.embed({ ...request, upstreamModel: target.upstreamModel }, deadline.signal);
      this.#stats.success(target.name, performance.now() - startedAt);
      return { meta: { route, target: target.name, attempts: 1, degraded: undefined }, result };
    } catch (err) {
      const error = deadline.error(err);
      this.#failed(target.name, error);
      throw error;
    } finally {
      deadline.dispose();
    }
  }

  async models(): Promise<ModelEntry[]> {
    return this.#catalog.entries();
  }

  async model(name: string): Promise<ModelEntry> {
    const resolved = this.#catalog.resolve(name);
    if (resolved.kind === "route") {
      return this.#catalog.entries().find((e) => e.kind === "route" && e.name === resolved.name) as ModelEntry;
    }
    const t = resolved.target;
    const known = this.#catalog.entries().find((e) => e.name === t.name);
    return (
      known ?? {
        name: t.name,
        kind: "target",
        provider: t.providerName,
        providerKind: t.provider.kind,
        upstreamModel: t.upstreamModel,
        contextWindow: t.contextWindow,
      }
    );
  }

  async countTokens(request: ChatRequest, _context: RequestContext) {
    const { target, route } = this.#pick(request.model);
    const inputTokens = await estimateInputTokens(request);
    return { meta: { route, target: target.name, attempts: 0, degraded: undefined }, inputTokens };
  }
}
