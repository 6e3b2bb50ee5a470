import { type RouteConfig, routeSchema } from "../config/schema.js";
import type { RequestContext } from "../core/index.js";
import { type ChatRequest, GatewayError } from "../core/index.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import { type FailedAttempt, failedAttempt } from "./attempt-log.js";
import type { Catalog, Target } from "./catalog.js";
import { applyPreference, readOverrides } from "./request-overrides.js";
import { RetryPolicy } from "./retry-policy.js";

/**
 * Requests that name a target directly get the route defaults of DESIGN.md, but for the empty-answer
 * and repetition checks: with no other target to answer instead, an answer that loops (a small local
 * model at temperature 0 does) or is empty reaches the client as the target gave it, as Ollama's and
 * OpenAI's own APIs return it, rather than a 502 that throws it away.
 */
const DIRECT: RouteConfig = routeSchema.parse({ tiers: ["x/y"], quality: { emptyOutput: false, repetition: false } });
const DIRECT_RETRY = new RetryPolicy(DIRECT.retry);

/** What a model name resolves to: tiers of targets, and the route's policy. */
export interface Plan {
  /** The name the client used. */
  name: string;
  route: string | undefined;
  tiers: Target[][];
  /** Tier entries that could not even be resolved (provider unavailable, model gone). */
  unresolved: FailedAttempt[];
  policy: RouteConfig;
  /** The route's retry policy, built once per route (policy.retry). */
  retry: RetryPolicy;
  /**
   * The client's own `x-tandem-deadline-ms`, when it is shorter than the route's total limit (then
   * `policy.timeouts.totalMs`): a timeout at it is the client's, not the target's (ClientDeadlineError).
   */
  clientDeadlineMs?: number;
}

interface ResolvedRoute {
  generation: number;
  tiers: Target[][];
  unresolved: FailedAttempt[];
  retry: RetryPolicy;
}

/**
 * Turns a model name (or the x-tandem-route header) into a plan: the tiers of targets to try, in
 * order, and the route's policy. A route's targets are resolved once per catalog generation.
 */
export class Planner {
  readonly #catalog: Catalog;
  readonly #stats: TargetStats;
  /** Resolved tiers per route (never mutated: plans derived from them build new arrays). */
  readonly #routeTargets = new Map<string, ResolvedRoute>();

  constructor(catalog: Catalog, stats: TargetStats) {
    this.#catalog = catalog;
    this.#stats = stats;
  }

  /** The plan for a request: its model name (or the x-tandem-route header), reordered and bounded as its headers ask. */
  planFor(model: string, headers: RequestContext["headers"]): Plan {
    const overrides = readOverrides(headers);
    if (overrides.route !== undefined && !this.#catalog.routes.has(overrides.route)) {
      throw new GatewayError(
        "not_found",
        `No route named '${overrides.route}' (header x-tandem-route); routes: ${[...this.#catalog.routes.keys()].join(", ") || "none"}`,
        {
          param: "x-tandem-route",
        },
      );
    }
    const plan = this.plan(overrides.route ?? model);
    const tiers = applyPreference(plan.tiers, overrides.prefer, (t) => this.#stats.ttftMs(t));
    const timeouts = plan.policy.timeouts;
    const clientDeadlineMs =
      overrides.deadlineMs !== undefined && overrides.deadlineMs < timeouts.totalMs ? overrides.deadlineMs : undefined;
    const totalMs = clientDeadlineMs ?? timeouts.totalMs;
    return {
      ...plan,
      tiers,
      policy: { ...plan.policy, timeouts: { ...timeouts, totalMs } },
      ...(clientDeadlineMs !== undefined && { clientDeadlineMs }),
    };
  }

  /** The plan for a model name as configured, without the request's overrides. */
  plan(model: string): Plan {
    const resolved = this.#catalog.resolve(model);
    if (resolved.kind === "target") {
      return { name: model, route: undefined, tiers: [[resolved.target]], unresolved: [], policy: DIRECT, retry: DIRECT_RETRY };
    }
    // A route's targets only change when discovery runs again; resolve them once per catalog generation.
    const cached = this.#routeTargets.get(resolved.name);
    if (cached && cached.generation === this.#catalog.generation) {
      const { tiers, unresolved, retry } = cached;
      return { name: model, route: resolved.name, tiers, unresolved, policy: resolved.route, retry };
    }
    const unresolved: FailedAttempt[] = [];
    const tiers = resolved.route.tiers.map((tier) =>
      tier.flatMap((name) => {
        const slash = name.indexOf("/");
        try {
          const target = this.#catalog.target(name.slice(0, slash), name.slice(slash + 1));
          if (target) return [target];
          unresolved.push({
            target: name,
            code: "not_found",
            message: "the provider does not list this model",
            ms: 0,
            lasting: true,
          });
        } catch (err) {
          unresolved.push(failedAttempt(name, GatewayError.from(err), 0));
        }
        return [];
      }),
    );
    const retry = new RetryPolicy(resolved.route.retry);
    this.#routeTargets.set(resolved.name, { generation: this.#catalog.generation, tiers, unresolved, retry });
    return { name: model, route: resolved.name, tiers, unresolved, policy: resolved.route, retry };
  }
}

/** Whether attempts for this request stream from the upstream (see the route's `streamUpstream`). */
export function streamsUpstream(plan: Plan, request: ChatRequest): boolean {
  return request.stream || plan.policy.streamUpstream || plan.policy.hedge !== undefined;
}
