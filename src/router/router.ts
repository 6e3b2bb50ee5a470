import { type Config, type RouteConfig, routeSchema } from "../config/schema.js";
import { countLargeTextsInSlices } from "../context/count-in-slices.js";
import { estimateInputTokens, loadTokenCounter } from "../context/estimate-input-tokens.js";
import { fitConversation } from "../context/fit-conversation.js";
import {
  type BeforeUpstreamBody,
  type ChatRequest,
  DONE,
  EgressAuditError,
  type EmbedRequest,
  GatewayError,
  isEgressAuditError,
  noEmbeddings,
  type StreamEvent,
  textOf,
  type Usage,
} from "../core/index.js";
import type { PullEvent, PullResult } from "../models/index.js";
import {
  classifyRequestInSlices,
  decideChatPrivacy,
  decideEmbedPrivacy,
  type PrivacyDecision,
  type PrivacySettings,
  parseSensitivityHeader,
  type RequestClassification,
  requestTextLength,
  SENSITIVITY_HEADER,
} from "../privacy/index.js";
import { answerLimitError, DEFAULT_ANSWER_LIMITS } from "../providers/http/answer-limits.js";
import type { LoadedModelStatus } from "../providers/llamacpp/index.js";
import type { EgressRecord } from "../store/records.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import { describeAttempts, exhaustedError, type FailedAttempt } from "./attempt-log.js";
import { backoffDelayMs, sleep } from "./backoff.js";
import type { Catalog, Target } from "./catalog.js";
import { type BreakerState, CircuitBreaker } from "./circuit-breaker.js";
import { continuationRequest } from "./continuation.js";
import { Deadline, type Timeouts } from "./deadline.js";
import { countsAgainstTarget, failoverDecision } from "./failover-policy.js";
import type { ChatStream, Gateway, ModelEntry, ModelLibrary, RequestContext, ResponseMeta } from "./gateway.js";
import type { HealthMonitor } from "./health-monitor.js";
import { localModelLibrary } from "./local-model-library.js";
import { isNetworkFailure, NetworkWatch } from "./network-watch.js";
import { QualityWatch } from "./quality-check.js";
import { applyPreference, readOverrides } from "./request-overrides.js";
import { fitsNoWindow, unsuitability } from "./target-fit.js";

/** Requests that name a target directly get the route defaults of DESIGN.md. */
const DIRECT: RouteConfig = routeSchema.parse({ tiers: ["x/y"] });
const BREAKER_LEVEL: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

/** Where the record of each request body that leaves the machine goes (the encrypted store). */
export interface EgressSink {
  /** Commits the body's audit row; resolves with its id once it is on disk, rejects when it cannot be. */
  auditEgress(record: EgressRecord): Promise<number>;
  /** Marks a row whose body was not sent after all (best-effort). */
  markEgressNotSent(id: number): void;
}

export interface RouterOptions {
  network?: NetworkWatch;
  /** Default: private requests local-only, images private, built-in detectors only. */
  privacy?: Config["privacy"];
  /** Default: none (nothing is recorded). */
  egress?: EgressSink;
  /**
   * The largest answer (text and tool-call arguments, in characters) the router keeps for a client
   * that did not stream, for a mid-stream continuation and for the quality checks (config
   * `limits.maxAnswerBytes`). Default 32 MiB.
   */
  maxAnswerBytes?: number;
}

/** Requests with at least this many characters of text are classified in slices (#classifyLarge). */
const LARGE_REQUEST_TEXT = 512 * 1024;

const DEFAULT_PRIVACY: Config["privacy"] = {
  default: "local-only",
  imagesArePrivate: true,
  patterns: [],
  keywords: [],
  disabled: [],
};

/** A request's privacy decision, with what its egress records need. */
interface Privacy {
  route: string | undefined;
  decision: PrivacyDecision;
}

/** What a model name resolves to: tiers of targets, and the route's policy. */
interface Plan {
  /** The name the client used. */
  name: string;
  route: string | undefined;
  tiers: Target[][];
  /** Tier entries that could not even be resolved (provider unavailable, model gone). */
  unresolved: FailedAttempt[];
  policy: RouteConfig;
}

/**
 * Resolves a model name to tiers of targets and runs the request on them: per target, bounded
 * retries with exponential backoff and full jitter (an upstream's Retry-After is honoured when it is
 * within the route's maxMs and the deadline); on to the next target and the next tier when a target
 * cannot answer; circuit breakers that skip a failing target without calling it; one deadline for the
 * whole request. The client is told which target answered, how many attempts it took and whether a
 * lower tier answered. When nothing can answer: a 503/504 listing every attempt, or with
 * `onExhausted: notice` a short assistant message saying so.
 *
 * Failover happens before the first event reaches the client; a stream that breaks after that ends
 * with an in-band error in the client's dialect.
 */
export class Router implements Gateway {
  readonly #catalog: Catalog;
  readonly #stats: TargetStats;
  readonly #metrics: Metrics;
  readonly #health: HealthMonitor;
  readonly #network: NetworkWatch;
  readonly #breakerOptions: { failureThreshold: number; cooldownMs: number };
  readonly #privacy: Config["privacy"];
  readonly #egress: EgressSink | undefined;
  readonly #maxAnswerBytes: number;
  readonly #breakers = new Map<string, CircuitBreaker>();
  /** Resolved tiers per route (never mutated: plans derived from them build new arrays). */
  readonly #routeTargets = new Map<string, { generation: number; tiers: Target[][]; unresolved: FailedAttempt[] }>();

  constructor(
    catalog: Catalog,
    stats: TargetStats,
    metrics: Metrics,
    health: HealthMonitor,
    breaker: { failureThreshold: number; cooldownMs: number },
    options: RouterOptions = {},
  ) {
    this.#network = options.network ?? new NetworkWatch();
    this.#privacy = options.privacy ?? DEFAULT_PRIVACY;
    this.#egress = options.egress;
    this.#maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_ANSWER_LIMITS.maxAnswerBytes;
    this.#catalog = catalog;
    this.#stats = stats;
    this.#metrics = metrics;
    this.#health = health;
    this.#breakerOptions = breaker;
  }

  /** Since when the network is taken for down (cloud targets skipped), for /v1/status; undefined while up. */
  get offlineSince(): number | undefined {
    return this.#network.offlineSince;
  }

  /** The breaker state of a target, for /v1/status. */
  breakerState(target: string): BreakerState {
    return this.#breakers.get(target)?.state ?? "closed";
  }

  #breaker(target: string): CircuitBreaker {
    let breaker = this.#breakers.get(target);
    if (!breaker) {
      breaker = new CircuitBreaker({
        ...this.#breakerOptions,
        onChange: (from, to) => {
          this.#metrics.breakerTransitions.inc({ target, from, to });
          this.#metrics.breakerState.set({ target }, BREAKER_LEVEL[to]);
        },
      });
      this.#breakers.set(target, breaker);
    }
    return breaker;
  }

  /** The plan for a request: its model name (or the x-tandem-route header), reordered and bounded as its headers ask. */
  #planFor(model: string, headers: RequestContext["headers"]): Plan {
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
    const plan = this.#plan(overrides.route ?? model);
    const tiers = applyPreference(plan.tiers, overrides.prefer, (t) => this.#stats.ttftMs(t));
    const timeouts = plan.policy.timeouts;
    const totalMs = overrides.deadlineMs === undefined ? timeouts.totalMs : Math.min(timeouts.totalMs, overrides.deadlineMs);
    return { ...plan, tiers, policy: { ...plan.policy, timeouts: { ...timeouts, totalMs } } };
  }

  #plan(model: string): Plan {
    const resolved = this.#catalog.resolve(model);
    if (resolved.kind === "target") {
      return { name: model, route: undefined, tiers: [[resolved.target]], unresolved: [], policy: DIRECT };
    }
    // A route's targets only change when discovery runs again; resolve them once per catalog generation.
    const cached = this.#routeTargets.get(resolved.name);
    if (cached && cached.generation === this.#catalog.generation) {
      return { name: model, route: resolved.name, tiers: cached.tiers, unresolved: cached.unresolved, policy: resolved.route };
    }
    const unresolved: FailedAttempt[] = [];
    const tiers = resolved.route.tiers.map((tier) =>
      tier.flatMap((name) => {
        const slash = name.indexOf("/");
        try {
          const target = this.#catalog.target(name.slice(0, slash), name.slice(slash + 1));
          if (target) return [target];
          unresolved.push({ target: name, code: "not_found", message: "the provider does not list this model", ms: 0 });
        } catch (err) {
          const error = GatewayError.from(err);
          unresolved.push({ target: name, code: error.code, message: error.message, ms: 0 });
        }
        return [];
      }),
    );
    this.#routeTargets.set(resolved.name, { generation: this.#catalog.generation, tiers, unresolved });
    return { name: model, route: resolved.name, tiers, unresolved, policy: resolved.route };
  }

  /**
   * Tries the plan's targets in order until one answers. `run` makes one attempt on one target
   * within the given time limits and resolves once it has something to give the client.
   */
  async #failover<T>(
    plan: Plan,
    context: RequestContext,
    run: (target: Target, timeouts: Timeouts, breaker: CircuitBreaker, signal: AbortSignal) => Promise<T>,
    /** Filled with every target attempted, so a later continuation does not go back to them. */
    tried = new Set<string>(),
    /** Why a target cannot serve this request, known before calling it (see target-fit.ts). */
    unsuitable?: (target: Target) => string | undefined,
  ): Promise<{ value: T; meta: ResponseMeta } | { failed: FailedAttempt[]; deadlinePassed: boolean; lastError?: GatewayError }> {
    const { retry, timeouts } = plan.policy;
    const deadlineAt = performance.now() + timeouts.totalMs;
    const failed: FailedAttempt[] = [...plan.unresolved];
    let attempts = 0;
    let lastError: GatewayError | undefined;
    // Targets whose provider failed its last health probe are skipped, unless nothing else is left.
    const anyHealthy = plan.tiers.some((tier) => tier.some((t) => this.#health.isHealthy(t.providerName)));
    // While the network is down, a plan with a local target goes local-only (bar one trial request now and then).
    const offline = plan.tiers.some((tier) => tier.some((t) => t.local)) && this.#network.skipCloud();
    // Targets that cannot serve this request are skipped, unless none can (then each one's own error decides).
    const unfit = new Map<string, string | undefined>();
    const whyUnfit = (t: Target): string | undefined => {
      if (!unfit.has(t.name)) unfit.set(t.name, unsuitable?.(t));
      return unfit.get(t.name);
    };
    const anyFit = unsuitable === undefined || plan.tiers.some((tier) => tier.some((t) => whyUnfit(t) === undefined));
    for (const tier of plan.tiers) {
      for (const target of tier) {
        if (offline && !target.local) {
          failed.push({ target: target.name, code: "offline", message: "the network is down; serving locally", ms: 0 });
          continue;
        }
        const reason = anyFit ? whyUnfit(target) : undefined;
        if (reason !== undefined) {
          failed.push({ target: target.name, code: "unsuitable", message: reason, ms: 0 });
          continue;
        }
        if (anyHealthy && !this.#health.isHealthy(target.providerName)) {
          const probe = this.#health.result(target.providerName);
          failed.push({
            target: target.name,
            code: "unhealthy",
            message: `health probe failed: ${probe?.error?.message ?? "?"}`,
            ms: 0,
          });
          continue;
        }
        const load = target.provider.load?.(target.upstreamModel);
        if (load && load.active >= load.slots && this.#canSpillOver(plan, target, anyHealthy)) {
          // Local load as a signal: rather than queue behind a busy local model, take the next target now.
          failed.push({
            target: target.name,
            code: "busy",
            message: `all ${load.slots} slots busy, ${load.queued} waiting`,
            ms: 0,
          });
          this.#metrics.spillovers.inc({ route: plan.route ?? "", target: target.name });
          continue;
        }
        const breaker = this.#breaker(target.name);
        for (let n = 0; n < retry.attempts; n++) {
          if (!breaker.allow()) {
            failed.push({
              target: target.name,
              code: "breaker_open",
              message: `circuit open for ${breaker.retryInMs} ms more`,
              ms: 0,
            });
            break;
          }
          const remaining = deadlineAt - performance.now();
          if (remaining <= 0) {
            breaker.release();
            return { failed, deadlinePassed: true, lastError };
          }
          attempts++;
          tried.add(target.name);
          const startedAt = performance.now();
          const limits = {
            ...timeouts,
            firstTokenMs: this.#firstTokenLimit(target, timeouts),
            totalMs: Math.min(timeouts.totalMs, Math.ceil(remaining)),
          };
          const hedge = n === 0 && plan.policy.hedge ? this.#hedgeCandidate(plan, target, tried, anyHealthy) : undefined;
          try {
            let value: T;
            let answered = target;
            if (hedge) {
              const won = await this.#hedged(plan, target, hedge, limits, breaker, run, context, failed, tried);
              value = won.value;
              answered = won.target;
            } else {
              value = await run(target, limits, breaker, context.signal);
            }
            if (hedge && tried.has(hedge.name)) attempts++;
            this.#metrics.attempts.inc({ target: answered.name, outcome: "ok" });
            if (!answered.local) this.#network.success();
            const answeredTier = plan.tiers.findIndex((t) => t.includes(answered));
            const degraded = answeredTier > 0 ? `tier ${answeredTier + 1} answered; ${describeAttempts(failed)}` : undefined;
            if (degraded) this.#metrics.degraded.inc({ route: plan.route ?? "", reason: "lower_tier" });
            return { value, meta: { route: plan.route, target: answered.name, attempts, degraded } };
          } catch (err) {
            if (hedge && tried.has(hedge.name)) attempts++;
            const error = GatewayError.from(err);
            const decision = failoverDecision(error);
            this.#metrics.attempts.inc({ target: target.name, outcome: error.code });
            if (decision === "canceled") {
              breaker.release();
              throw error;
            }
            if (countsAgainstTarget(error)) breaker.failure();
            else breaker.release();
            if (!target.local && isNetworkFailure(error)) this.#network.failure(target.providerName);
            lastError = error;
            failed.push({ target: target.name, code: error.code, message: error.message, ms: performance.now() - startedAt });
            if (decision === "stop") throw error;
            if (decision === "next" || n + 1 >= retry.attempts) break;
            // An upstream's Retry-After is honoured when it is short enough to wait for here;
            // a longer one means: try another target now (or let the client wait, if none is left).
            const delay = error.retryAfterMs ?? backoffDelayMs(n, retry.baseMs, retry.maxMs);
            if (delay > retry.maxMs || performance.now() + delay >= deadlineAt) break;
            this.#metrics.retries.inc({ target: target.name });
            try {
              await sleep(delay, context.signal);
            } catch (abort) {
              throw new GatewayError("canceled", "The client disconnected", { cause: abort });
            }
          }
        }
        this.#metrics.failovers.inc({ route: plan.route ?? "", code: failed.at(-1)?.code ?? "" });
      }
    }
    return { failed, deadlinePassed: false, lastError };
  }

  /** The route's first-token limit, or with adaptiveFirstToken, a multiple of the target's recent p95 within it. */
  #firstTokenLimit(target: Target, timeouts: RouteConfig["timeouts"]): number {
    const adaptive = timeouts.adaptiveFirstToken;
    if (!adaptive) return timeouts.firstTokenMs;
    const p95 = this.#stats.ttftPercentile(target.name, 95);
    if (p95 === undefined) return timeouts.firstTokenMs;
    return Math.min(timeouts.firstTokenMs, Math.max(adaptive.minMs, Math.ceil(adaptive.multiplier * p95)));
  }

  /** Whether a later target could take a request now: not itself a busy local model, breaker not open, healthy. */
  #canSpillOver(plan: Plan, from: Target, anyHealthy: boolean): boolean {
    const order = plan.tiers.flat();
    return order.slice(order.indexOf(from) + 1).some((t) => {
      if (anyHealthy && !this.#health.isHealthy(t.providerName)) return false;
      if (this.#breaker(t.name).state === "open") return false;
      const load = t.provider.load?.(t.upstreamModel);
      return !load || load.active < load.slots;
    });
  }

  /** The target a hedge would start beside `primary`: the next untried, healthy one whose breaker is closed. */
  #hedgeCandidate(plan: Plan, primary: Target, tried: Set<string>, anyHealthy: boolean): Target | undefined {
    const order = plan.tiers.flat();
    for (const t of order.slice(order.indexOf(primary) + 1)) {
      if (tried.has(t.name) || (anyHealthy && !this.#health.isHealthy(t.providerName))) continue;
      if (this.#breaker(t.name).state !== "closed") continue;
      return t;
    }
    return undefined;
  }

  /**
   * A hedged attempt: `primary` starts; if it has no first token after the hedge delay, `hedge` starts
   * too, and the first to produce one answers while the other is cancelled (its upstream request
   * aborted). When both fail, the hedge's failure is recorded here and the primary's error is thrown
   * for the caller's usual handling.
   */
  async #hedged<T>(
    plan: Plan,
    primary: Target,
    hedge: Target,
    timeouts: Timeouts,
    breaker: CircuitBreaker,
    run: (target: Target, timeouts: Timeouts, breaker: CircuitBreaker, signal: AbortSignal) => Promise<T>,
    context: RequestContext,
    failed: FailedAttempt[],
    tried: Set<string>,
  ): Promise<{ value: T; target: Target }> {
    type Settled = { ok: true; value: T; target: Target } | { ok: false; error: GatewayError; target: Target };
    const start = (target: Target, b: CircuitBreaker): { controller: AbortController; settled: Promise<Settled> } => {
      const controller = new AbortController();
      const onAbort = () => controller.abort(context.signal.reason);
      if (context.signal.aborted) controller.abort(context.signal.reason);
      else context.signal.addEventListener("abort", onAbort, { once: true });
      const settled = run(target, timeouts, b, controller.signal).then(
        (value): Settled => ({ ok: true, value, target }),
        (err): Settled => ({ ok: false, error: GatewayError.from(err), target }),
      );
      return { controller, settled };
    };
    const afterMs = plan.policy.hedge?.afterMs ?? Math.min(5000, Math.max(50, 2 * (this.#stats.ttftMs(primary.name) ?? 500)));
    const first = start(primary, breaker);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), afterMs);
    });
    const early = await Promise.race([first.settled, late]);
    clearTimeout(timer);
    const unwrap = (s: Settled): { value: T; target: Target } => {
      if (s.ok) return { value: s.value, target: s.target };
      throw s.error;
    };
    const hedgeBreaker = this.#breaker(hedge.name);
    if (early || !hedgeBreaker.allow()) return unwrap(early ?? (await first.settled));
    tried.add(hedge.name);
    this.#metrics.hedges.inc({ route: plan.route ?? "", target: hedge.name });
    const startedAt = performance.now();
    const second = start(hedge, hedgeBreaker);
    const winner = await new Promise<Extract<Settled, { ok: true }> | undefined>((resolve) => {
      let failures = 0;
      for (const p of [first.settled, second.settled]) {
        void p.then((s) => {
          if (s.ok) resolve(s);
          else if (++failures === 2) resolve(undefined);
        });
      }
    });
    if (winner) {
      const loser = winner.target === primary ? second : first;
      const loserBreaker = winner.target === primary ? hedgeBreaker : breaker;
      loser.controller.abort(new GatewayError("canceled", "another target answered first (hedge)"));
      // The loser ends as canceled (or with a stream nobody reads, which the abort has already stopped).
      void loser.settled.then(() => loserBreaker.release());
      return { value: winner.value, target: winner.target };
    }
    const hedgeOutcome = (await second.settled) as Extract<Settled, { ok: false }>;
    if (countsAgainstTarget(hedgeOutcome.error)) hedgeBreaker.failure();
    else hedgeBreaker.release();
    failed.push({
      target: hedge.name,
      code: hedgeOutcome.error.code,
      message: hedgeOutcome.error.message,
      ms: performance.now() - startedAt,
    });
    return unwrap(await first.settled);
  }

  async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    const planned = this.#planFor(request.model, context.headers);
    // Awaited only when there is something to wait for: most requests are small.
    const scanning = this.#classifyLarge(planned, request, context.headers);
    const classified = scanning === undefined ? undefined : await scanning;
    const { plan, privacy } = this.#guard(
      planned,
      (header, settings) => decideChatPrivacy(request, header, settings, classified),
      context.headers,
    );
    const tried = new Set<string>();
    // Tokens are counted only where a target's window is known (the tokenizer is not even loaded
    // otherwise); a large conversation is tokenized in slices first, so counting it does not stall
    // other clients.
    const windowed = plan.tiers.some((tier) => tier.some((t) => t.contextWindow !== undefined));
    const counter = windowed ? await loadTokenCounter() : undefined;
    const count =
      counter && requestTextLength(request) >= LARGE_REQUEST_TEXT ? await countLargeTextsInSlices(request, counter) : counter;
    if (count && fitsNoWindow(plan.tiers.flat(), request, count)) {
      throw new GatewayError(
        "context_length_exceeded",
        `The conversation does not fit the context window of ${plan.tiers
          .flat()
          .map((t) => `${t.name} (${t.contextWindow} tokens)`)
          .join(", ")} with room for the answer, and truncation is disabled.`,
        { retryable: false },
      );
    }
    const outcome = await this.#failover(
      plan,
      context,
      (target, timeouts, breaker, signal) =>
        this.#startChat(target, request, { ...context, signal }, timeouts, breaker, privacy, streamsUpstream(plan, request)),
      tried,
      (t) => unsuitability(t, request, count),
    );
    if ("value" in outcome) {
      const { events, fitted, native, warnings } = outcome.value;
      if (fitted) outcome.meta.degraded = outcome.meta.degraded ? `${outcome.meta.degraded}; ${fitted}` : fitted;
      if (native) outcome.meta.native = true;
      if (warnings) outcome.meta.warnings = warnings;
      if (privacy) outcome.meta.sensitivity = privacy.decision.sensitivity;
      return { meta: outcome.meta, events: this.#continuing(plan, request, context, outcome.meta, events, tried, privacy) };
    }
    if (plan.policy.onExhausted === "notice" && plan.route !== undefined) return this.#notice(plan, outcome.failed);
    throw this.#exhausted(plan, outcome);
  }

  /**
   * A large request's classification, made in slices that leave the event loop in between (a 32 MB
   * body takes about half a second to scan, which would hold every other client up), when it may be
   * needed: some target is remote and the client did not declare the request public. Small requests
   * are classified at once, in #guard, when the decision needs it.
   */
  #classifyLarge(
    plan: Plan,
    request: ChatRequest,
    headers: RequestContext["headers"],
  ): Promise<RequestClassification> | undefined {
    if (requestTextLength(request) < LARGE_REQUEST_TEXT) return undefined;
    if (plan.tiers.every((tier) => tier.every((t) => t.local))) return undefined;
    const header = headers[SENSITIVITY_HEADER];
    if (parseSensitivityHeader(Array.isArray(header) ? header[0] : header) === "public") return undefined;
    return classifyRequestInSlices(request, this.#privacy);
  }

  /**
   * Applies the request's privacy decision to its plan. Nothing is scanned when every target is
   * local (nothing would leave the machine). Under `local-only` the cloud targets are taken out of
   * the plan, so no retry, failover, hedge or continuation can reach them; when no local target is
   * left the request is refused (403) rather than sent.
   */
  #guard(
    plan: Plan,
    decide: (header: string | undefined, settings: PrivacySettings) => PrivacyDecision,
    headers: RequestContext["headers"],
  ): { plan: Plan; privacy: Privacy | undefined } {
    if (plan.tiers.every((tier) => tier.every((t) => t.local))) return { plan, privacy: undefined };
    const route = plan.route === undefined ? undefined : this.#catalog.routes.get(plan.route);
    const header = headers[SENSITIVITY_HEADER];
    const decision = decide(Array.isArray(header) ? header[0] : header, {
      defaultPolicy: this.#privacy.default,
      routePolicy: route?.privacy,
      routeSensitivity: route?.sensitivity,
      imagesArePrivate: route?.imagesArePrivate ?? this.#privacy.imagesArePrivate,
      detection: this.#privacy,
    });
    this.#metrics.privacyDecisions.inc({ route: plan.route ?? "", sensitivity: decision.sensitivity, policy: decision.policy });
    const privacy = { route: plan.route, decision };
    if (decision.policy !== "local-only") return { plan, privacy };
    const skipped: FailedAttempt[] = [];
    const tiers = plan.tiers
      .map((tier) =>
        tier.filter((t) => {
          if (!t.local)
            skipped.push({ target: t.name, code: "local_only", message: "private data stays on this machine", ms: 0 });
          return t.local;
        }),
      )
      .filter((tier) => tier.length > 0);
    if (tiers.length === 0) {
      this.#metrics.privacyRefusals.inc({ route: plan.route ?? "" });
      const where = plan.route === undefined ? `'${plan.name}' is a cloud target` : `route '${plan.route}' has no local target`;
      throw new GatewayError(
        "permission_denied",
        `This request is private (${decision.reason}) and private data stays on this machine, but ${where}. ` +
          "Use a route with a local model, set the route's privacy to redact or allow, or send " +
          `'${SENSITIVITY_HEADER}: public' if this data may leave the machine.`,
        { retryable: false },
      );
    }
    return { plan: { ...plan, tiers, unresolved: [...plan.unresolved, ...skipped] }, privacy };
  }

  /**
   * Relays an answer and watches its quality; when it breaks or fails a check after it has started,
   * finishes it on the next target that can answer. A streaming client gets one stream: the next
   * target is given the text so far and asked to go on, its events follow, and a `switch` event marks
   * the seam. A client that did not stream has seen nothing yet, so the next target answers afresh
   * (`switch` with `restart`). Either way the meta says the answer is degraded. Tool calls are held
   * back until their arguments check out, so no half or broken call reaches a client; once a call
   * has been passed on, a later failure ends the stream with the error instead.
   */
  async *#continuing(
    plan: Plan,
    request: ChatRequest,
    context: RequestContext,
    meta: ResponseMeta,
    first: AsyncIterable<StreamEvent>,
    tried: Set<string>,
    privacy: Privacy | undefined,
  ): AsyncGenerator<StreamEvent> {
    const quality = plan.policy.quality;
    const restart = !request.stream;
    let current = first;
    let target = meta.target;
    let text = "";
    let callsSent = 0;
    let switched = false;
    let inputTokens: number | undefined;
    // Output before a switch: the broken upstream never reported usage, so its deltas are counted.
    let outputBefore = 0;
    // Characters of text and tool-call arguments this answer holds (the text so far, held calls, and
    // what a client that did not stream is gathering): past the limit the answer fails, so neither
    // the router nor the client's response holds more.
    let size = 0;
    let oversize = false;
    const maxAnswer = this.#maxAnswerBytes;
    for (;;) {
      const watch = new QualityWatch(quality, request.responseFormat, target);
      const held = new Map<number, { events: StreamEvent[]; name: string; args: string }>();
      // The upstream's own frames while a call is held: they carry the call too.
      let heldFrames: StreamEvent[] = [];
      try {
        for await (const event of current) {
          switch (event.type) {
            case "start":
              if (switched) continue;
              break;
            case "frame":
              if (held.size === 0) break;
              heldFrames.push(event);
              continue;
            case "text-delta": {
              size += event.text.length;
              if (size > maxAnswer) {
                oversize = true;
                throw answerLimitError(target, "maxAnswerBytes", maxAnswer);
              }
              text += event.text;
              if (!switched || restart) outputBefore++;
              const bad = watch.onText(event.text);
              if (bad) throw this.#qualityFailure(target, bad);
              break;
            }
            case "tool-call-start":
              if (!quality.toolArguments) break;
              held.set(event.index, { events: [event], name: event.name, args: "" });
              continue;
            case "tool-call-delta": {
              size += event.argumentsDelta.length;
              if (size > maxAnswer) {
                oversize = true;
                throw answerLimitError(target, "maxAnswerBytes", maxAnswer);
              }
              const call = held.get(event.index);
              if (!call) break;
              call.events.push(event);
              call.args += event.argumentsDelta;
              continue;
            }
            case "tool-call-end": {
              const call = held.get(event.index);
              if (call) {
                const bad = watch.onToolCall(call.name, call.args);
                if (bad) throw this.#qualityFailure(target, bad);
                held.delete(event.index);
                yield* call.events;
                if (held.size === 0 && heldFrames.length > 0) {
                  yield* heldFrames;
                  heldFrames = [];
                }
              }
              callsSent++;
              break;
            }
            case "usage":
              if (!switched) {
                inputTokens = event.usage.inputTokens ?? inputTokens;
                break;
              }
              yield this.#continuedUsage(event.usage, inputTokens, restart ? 0 : outputBefore);
              continue;
            case "finish": {
              const bad = watch.onFinish(text, callsSent + held.size, event.reason);
              if (bad) throw this.#qualityFailure(target, bad);
              break;
            }
          }
          yield event;
        }
        return;
      } catch (err) {
        const error = GatewayError.from(err);
        const decision = failoverDecision(error);
        if (decision === "canceled" || decision === "stop" || (callsSent > 0 && !restart)) throw error;
        // A streamed answer that grew past the limit is not handed to another target to go on with.
        if (oversize && !restart) throw error;
        const rest: Plan = {
          ...plan,
          unresolved: [],
          tiers: plan.tiers.map((tier) => tier.filter((t) => !tried.has(t.name))).filter((tier) => tier.length > 0),
        };
        if (rest.tiers.length === 0) throw error;
        const next = await this.#failover(
          rest,
          context,
          (t, timeouts, breaker, signal) =>
            this.#startChat(
              t,
              // Going on from the text so far is a new conversation: the client's own body no longer says it.
              restart ? request : { ...continuationRequest(request, text), native: undefined },
              { ...context, signal },
              timeouts,
              breaker,
              privacy,
              streamsUpstream(plan, request),
            ),
          tried,
        );
        if (!("value" in next)) throw error;
        const { events: nextEvents, fitted } = next.value;
        this.#metrics.midStreamSwitches.inc({ route: plan.route ?? "", code: error.code });
        if (!switched) this.#metrics.degraded.inc({ route: plan.route ?? "", reason: "mid_stream_switch" });
        meta.attempts += next.meta.attempts;
        meta.degraded = `${restart ? "answered afresh on" : "switched mid-stream from"} ${restart ? next.meta.target : `${meta.target} to ${next.meta.target}`} after ${target} failed (${error.code})${fitted ? `; ${fitted}` : ""}`;
        yield { type: "switch", from: target, to: next.meta.target, reason: error.code, ...(restart && { restart: true }) };
        if (restart) {
          text = "";
          callsSent = 0;
          size = 0;
        }
        oversize = false;
        switched = true;
        target = next.meta.target;
        current = nextEvents;
      }
    }
  }

  #qualityFailure(target: string, bad: { check: string; error: GatewayError }): GatewayError {
    this.#metrics.qualityFailures.inc({ target, check: bad.check });
    this.#stats.failure(target, bad.error);
    return bad.error;
  }

  /** Usage of a continued answer: the original input, and the output of both parts. */
  #continuedUsage(usage: Partial<Usage>, inputTokens: number | undefined, outputBefore: number): StreamEvent {
    const { outputTokens } = usage;
    return {
      type: "usage",
      usage: {
        ...usage,
        ...(inputTokens !== undefined && { inputTokens }),
        ...(outputTokens !== undefined && { outputTokens: outputTokens + outputBefore }),
      },
    };
  }

  /** A lone target's own error reaches the client as it is (a 429 with its Retry-After stays one). */
  #exhausted(plan: Plan, outcome: { failed: FailedAttempt[]; deadlinePassed: boolean; lastError?: GatewayError }): GatewayError {
    const targets = new Set(outcome.failed.map((a) => a.target));
    if (targets.size === 1 && outcome.lastError && !outcome.deadlinePassed) return outcome.lastError;
    return exhaustedError(plan.name, outcome.failed, outcome.deadlinePassed);
  }

  /** `onExhausted: notice`: a short, well-formed assistant answer that says the service is degraded. */
  #notice(plan: Plan, failed: FailedAttempt[]): ChatStream {
    this.#metrics.degraded.inc({ route: plan.route ?? "", reason: "exhausted" });
    const text =
      `The AI service is degraded right now: no model on route '${plan.route}' could answer ` +
      `(${failed.map((a) => `${a.target}: ${a.code}`).join(", ") || "none available"}). Please try again shortly.`;
    async function* events(): AsyncGenerator<StreamEvent> {
      yield { type: "start", model: "tandem/notice" };
      yield { type: "text-delta", text };
      yield { type: "usage", usage: { inputTokens: 0, outputTokens: 0 } };
      yield { type: "finish", reason: "stop", raw: "degraded_notice" };
    }
    return {
      meta: {
        route: plan.route,
        target: "tandem/notice",
        attempts: failed.filter((a) => a.code !== "breaker_open").length,
        degraded: `every tier failed; ${describeAttempts(failed)}`,
      },
      events: events(),
    };
  }

  /**
   * One attempt: fits the conversation to the target's window when it is known and too small, starts
   * the upstream answer and waits for its first event (so failures can still fail over). Unless
   * `stream`, a provider that can asks for a whole answer: its first event comes with the last, so
   * the first-token limit is the total one, and its time is not counted as a time to first token.
   */
  async #startChat(
    target: Target,
    original: ChatRequest,
    context: RequestContext,
    timeouts: Timeouts,
    breaker: CircuitBreaker,
    privacy: Privacy | undefined,
    stream: boolean,
  ): Promise<{ events: AsyncIterable<StreamEvent>; fitted?: string; native?: boolean; warnings?: string[] }> {
    const whole = !stream && target.provider.answersWhole === true;
    // The client's own body goes only to a target on its wire, and only as the providers' request's
    // `native`, after redaction: the canonical request never carries it further.
    const { native: raw, ...canonical } = original;
    let request: ChatRequest = canonical;
    let fitted: string | undefined;
    if (target.contextWindow !== undefined && original.fitToWindow !== false) {
      const counter = await loadTokenCounter();
      const fit = fitConversation(
        canonical,
        target.contextWindow,
        // A large conversation is tokenized in slices first, so counting it does not stall other clients.
        requestTextLength(canonical) >= LARGE_REQUEST_TEXT ? await countLargeTextsInSlices(canonical, counter) : counter,
      );
      if (fit.dropped > 0) {
        request = fit.request;
        fitted = `conversation fitted to ${target.name}'s ${target.contextWindow}-token window: ${fit.dropped} older message(s) left out`;
        this.#metrics.contextFits.inc({ target: target.name });
      }
    }
    // Leaving the machine: redacted when the policy says so, and every body sent is recorded.
    const redaction = target.local ? undefined : privacy?.decision.redaction;
    if (redaction) request = redaction.redactRequest(request);
    // Same wire, and the conversation was not fitted (the client's body is the whole conversation).
    const native = raw !== undefined && fitted === undefined && target.provider.capabilities?.wires?.includes(raw.wire) === true;
    if (native) request.native = redaction ? { ...raw, body: redaction.redactJsonValue(raw.body) } : raw;
    const warnings = raw !== undefined && !native ? raw.lost() : undefined;
    const deadline = new Deadline(
      context.signal,
      whole ? { ...timeouts, firstTokenMs: timeouts.totalMs, minTokensPerSecond: 0 } : timeouts,
      target.name,
    );
    const startedAt = performance.now();
    const iterator = target.provider
      .chat(
        {
          ...request,
          upstreamModel: target.upstreamModel,
          connectTimeoutMs: timeouts.connectMs,
          ...(whole && { whole }),
          ...this.#egressHook(target, privacy),
        },
        deadline.signal,
      )
      [Symbol.asyncIterator]();
    let first: IteratorResult<StreamEvent>;
    // The first-token limit runs until real output (text, a tool call, or the finish): an upstream that
    // sends its headers or role chunk and then stalls is failed over here, before the client sees anything.
    const preamble: StreamEvent[] = [];
    try {
      for (;;) {
        first = await iterator.next();
        if (first.done)
          throw new GatewayError("upstream_error", `${target.name} ended its answer before it began`, { target: target.name });
        if (first.value.type !== "start" && first.value.type !== "usage") break;
        preamble.push(first.value);
      }
    } catch (err) {
      const error = deadline.error(err);
      deadline.dispose();
      await iterator.return?.();
      this.#failed(target.name, error);
      throw error;
    }
    deadline.tick();
    breaker.success();
    this.#health.markHealthy(target.providerName);
    if (!whole) {
      this.#stats.firstEvent(target.name, performance.now() - startedAt);
      this.#metrics.timeToFirstEvent.observe({ target: target.name }, (performance.now() - startedAt) / 1000);
    }
    const relayed = this.#relay(target.name, [...preamble, first.value], iterator, deadline, startedAt, breaker);
    const events = redaction ? redaction.rehydrateStream(relayed) : relayed;
    return {
      events,
      ...(fitted !== undefined && { fitted }),
      ...(native && { native }),
      ...(warnings !== undefined && warnings.length > 0 && { warnings }),
    };
  }

  /**
   * The egress audit's gate for a cloud target (none for local targets): each body's row is committed
   * before the body is sent, and a body whose row cannot be committed is not sent (EgressAuditError).
   */
  #egressHook(target: Target, privacy: Privacy | undefined): { beforeUpstreamBody?: BeforeUpstreamBody } {
    const sink = this.#egress;
    if (target.local || privacy === undefined || sink === undefined) return {};
    const { decision, route } = privacy;
    const redactions = decision.redaction?.summary().byKind ?? {};
    return {
      beforeUpstreamBody: async (body) => {
        let id: number;
        try {
          id = await sink.auditEgress({
            target: target.name,
            ...(route !== undefined && { route }),
            sensitivity: decision.sensitivity,
            redactions,
            body,
          });
        } catch (err) {
          throw new EgressAuditError(target.name, auditFailure(err), err);
        }
        return { notSent: () => sink.markEgressNotSent(id) };
      },
    };
  }

  /**
   * Passes events on as they come, watching the idle and total limits, and records the outcome.
   * Each next() is forwarded to the provider's stream (no generator of its own: every layer an event
   * passes through costs it microtasks). Leaving early (return()) aborts nothing by itself but closes
   * the provider's stream, which drops its upstream request.
   */
  #relay(
    target: string,
    firsts: StreamEvent[],
    iterator: AsyncIterator<StreamEvent>,
    deadline: Deadline,
    startedAt: number,
    breaker: CircuitBreaker,
  ): AsyncIterableIterator<StreamEvent> {
    let finished = false;
    let closed = false;
    /** The provider's stream said it is done: its own cleanup has run. */
    let ended = false;
    let given = 0;
    const see = (event: StreamEvent): IteratorResult<StreamEvent> => {
      if (event.type === "finish") finished = true;
      else if (event.type === "usage") this.#countTokens(target, event.usage);
      return { done: false, value: event };
    };
    // Whatever the end, once: the limits stop, and a provider stream that has not ended is closed, so
    // its cleanup runs (a local model's slot is released, an upstream body drained or dropped) even
    // when the reader leaves after the finish event (e.g. a quality check that fails on it).
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      deadline.dispose();
      if (!ended) await iterator.return?.();
    };
    const fail = async (err: unknown): Promise<never> => {
      const error = deadline.error(err);
      if (countsAgainstTarget(error)) breaker.failure();
      this.#failed(target, error);
      await close();
      throw error;
    };
    const onResult = (
      result: IteratorResult<StreamEvent>,
    ): IteratorResult<StreamEvent> | Promise<IteratorResult<StreamEvent>> => {
      if (!result.done) {
        deadline.tick();
        return see(result.value);
      }
      ended = true;
      if (!finished) return fail(new GatewayError("upstream_error", `${target} ended its stream without finishing`, { target }));
      this.#stats.success(target, performance.now() - startedAt);
      void close();
      return DONE;
    };
    const relay: AsyncIterableIterator<StreamEvent> = {
      [Symbol.asyncIterator]: () => relay,
      next(): Promise<IteratorResult<StreamEvent>> {
        if (closed) return Promise.resolve(DONE);
        const first = firsts[given];
        if (first !== undefined) {
          given++;
          return Promise.resolve(see(first));
        }
        try {
          return iterator.next().then(onResult, fail);
        } catch (err) {
          return fail(err);
        }
      },
      async return(): Promise<IteratorResult<StreamEvent>> {
        await close();
        return DONE;
      },
    };
    return relay;
  }

  #countTokens(target: string, usage: { inputTokens?: number; outputTokens?: number }): void {
    // Usage may be reported more than once (Anthropic: input first, output last); count only final values.
    if (usage.outputTokens !== undefined) this.#metrics.tokens.inc({ target, direction: "output" }, usage.outputTokens);
    if (usage.inputTokens !== undefined && usage.outputTokens !== undefined) {
      this.#metrics.tokens.inc({ target, direction: "input" }, usage.inputTokens);
    }
  }

  /**
   * Records a failed attempt. Only failures that say something about the target (countsAgainstTarget)
   * reach its stats (error rate and last error in /v1/status): a client's bad request or tandem's own
   * internal failure must not make a working target look sick.
   */
  #failed(target: string, error: GatewayError): void {
    // An audit that could not be written says nothing about the target: nothing was sent to it.
    if (error.code === "canceled" || error.code === "internal" || isEgressAuditError(error)) return;
    this.#metrics.upstreamErrors.inc({ target, code: error.code });
    if (countsAgainstTarget(error)) this.#stats.failure(target, error);
  }

  async embed(request: EmbedRequest, context: RequestContext) {
    const { plan, privacy } = this.#guard(
      this.#planFor(request.model, context.headers),
      (header, settings) => decideEmbedPrivacy(request.input, header, settings),
      context.headers,
    );
    const outcome = await this.#failover(plan, context, async (target, timeouts, breaker, signal) => {
      const deadline = new Deadline(signal, { ...timeouts, firstTokenMs: timeouts.totalMs }, target.name);
      const startedAt = performance.now();
      // Vectors of redacted text: the values never leave, at some cost to how well they match.
      const redaction = target.local ? undefined : privacy?.decision.redaction;
      const input = redaction ? request.input.map((text) => redaction.redactText(text)) : request.input;
      try {
        if (!target.provider.embed) throw noEmbeddings(target.provider);
        const result = await target.provider.embed(
          {
            ...request,
            input,
            upstreamModel: target.upstreamModel,
            connectTimeoutMs: timeouts.connectMs,
            ...this.#egressHook(target, privacy),
          },
          deadline.signal,
        );
        breaker.success();
        this.#health.markHealthy(target.providerName);
        this.#stats.success(target.name, performance.now() - startedAt);
        return result;
      } catch (err) {
        const error = deadline.error(err);
        this.#failed(target.name, error);
        throw error;
      } finally {
        deadline.dispose();
      }
    });
    if ("value" in outcome) {
      if (privacy) outcome.meta.sensitivity = privacy.decision.sensitivity;
      return { meta: outcome.meta, result: outcome.value };
    }
    throw this.#exhausted(plan, outcome);
  }

  async models(): Promise<ModelEntry[]> {
    await this.#catalog.refreshLocal();
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

  async countTokens(request: ChatRequest, context: RequestContext) {
    const plan = this.#planFor(request.model, context.headers);
    const target = plan.tiers.flat()[0];
    if (!target) throw exhaustedError(plan.name, plan.unresolved, false);
    const meta = { route: plan.route, target: target.name, attempts: 0, degraded: undefined };
    if (target.provider.countTokens) {
      // A local model counts with its own tokenizer (the template's tokens are not included).
      const text = request.messages.map((m) => (m.role === "system" ? m.content : textOf(m.content))).join("\n");
      return { meta, inputTokens: await target.provider.countTokens(target.upstreamModel, text, context.signal) };
    }
    return { meta, inputTokens: await estimateInputTokens(request) };
  }

  loadedModels(): LoadedModelStatus[] {
    return [...this.#catalog.slots.values()].flatMap((slot) => slot.provider?.loadedModels?.() ?? []);
  }

  async pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult> {
    const slot = [...this.#catalog.slots.values()].find((s) => s.provider?.pull);
    if (!slot?.provider?.pull) {
      throw new GatewayError(
        "unavailable",
        "No local engine is configured: add a provider of kind llamacpp to pull models into.",
        {
          retryable: false,
        },
      );
    }
    const prefix = `${slot.name}/`;
    const result = await slot.provider.pull(
      reference.startsWith(prefix) ? reference.slice(prefix.length) : reference,
      onEvent,
      signal,
    );
    // The new model becomes a target at once.
    await this.#catalog.refreshLocal();
    return result;
  }

  modelLibrary(): ModelLibrary {
    return localModelLibrary(this.#catalog);
  }

  async keepAlive(name: string, keepAliveMs: number | undefined, signal: AbortSignal): Promise<ModelEntry> {
    const entry = await this.model(name);
    const resolved = this.#catalog.resolve(name);
    const target =
      resolved.kind === "target"
        ? resolved.target
        : this.#plan(resolved.name)
            .tiers.flat()
            .find((t) => t.provider.preload);
    if (target?.provider.preload) await target.provider.preload(target.upstreamModel, keepAliveMs, signal);
    return entry;
  }
}

/** Whether attempts for this request stream from the upstream (see the route's `streamUpstream`). */
function streamsUpstream(plan: Plan, request: ChatRequest): boolean {
  return request.stream || plan.policy.streamUpstream || plan.policy.hedge !== undefined;
}

/** Why an audit row could not be committed, in words without the store's path (the message reaches clients). */
function auditFailure(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case "disk_full":
      return "the disk is full";
    case "closed":
      return "the store is closed";
    case "busy":
      return "another process holds the store's lock";
    case "corrupt":
      return "the store is damaged";
    case "io":
      return "the store could not write to the disk";
    default:
      return `the store failed${typeof code === "string" ? ` (${code})` : ""}`;
  }
}
