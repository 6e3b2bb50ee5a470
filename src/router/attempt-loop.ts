import type { RouteConfig } from "../config/schema.js";
import type { RequestContext, ResponseMeta } from "../core/index.js";
import { GatewayError, noteErrorMeta } from "../core/index.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import { attemptOutcome, describeAttempts, type FailedAttempt, failedAttempt } from "./attempt-log.js";
import type { Breakers } from "./breakers.js";
import type { Target } from "./catalog.js";
import type { CircuitBreaker } from "./circuit-breaker.js";
import type { Timeouts } from "./deadline.js";
import type { HealthMonitor } from "./health-monitor.js";
import { isNetworkFailure, type NetworkWatch } from "./network-watch.js";
import type { Plan } from "./plan.js";
import { sleep } from "./sleep.js";

/**
 * An attempt's value that is an answer still under way (a chat stream): whether the attempt
 * succeeded is known only at the answer's end, where it is counted in tandem_attempts_total (a
 * stream that breaks mid-answer is a failed attempt, not a successful one), rather than here.
 */
export interface AnswerUnderWay {
  readonly underWay: true;
  /**
   * Leaves the answer unread (a hedge's loser that had started too): its upstream request is
   * dropped and its attempt counted as one whose reader left.
   */
  discard?(): Promise<unknown>;
}

/** Whether the plan has a target after `target` to move on to. */
function hasLaterTarget(plan: Plan, target: Target): boolean {
  const order = plan.tiers.flat();
  return order.indexOf(target) < order.length - 1;
}

function isUnderWay(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Partial<AnswerUnderWay>).underWay === true;
}

/** One attempt on one target within the given time limits; resolves once it has something to give the client. */
export type RunAttempt<T> = (target: Target, timeouts: Timeouts, breaker: CircuitBreaker, signal: AbortSignal) => Promise<T>;

/**
 * What the loop ends with: an answer, what it took and the failures before it (`earlier`: a
 * continuation that later runs out of targets lists them too), and the request's deadline
 * (`deadlineAt`, on performance.now()'s clock: a continuation goes on within it); or every failure
 * on the way.
 */
export type LoopOutcome<T> =
  | { value: T; meta: ResponseMeta; earlier: FailedAttempt[]; deadlineAt: number }
  | { failed: FailedAttempt[]; attempts: number; deadlinePassed: boolean; lastError?: GatewayError };

export interface AttemptLoopParts {
  stats: TargetStats;
  metrics: Metrics;
  health: HealthMonitor;
  network: NetworkWatch;
  breakers: Breakers;
}

/**
 * Runs a plan's targets in order until one answers: per target, its breaker, its health and local
 * load (spill-over), a hedge beside the first attempt when the route asks, and the route's
 * RetryPolicy after each failure (retry after a backoff, rotate to the pool's next key, move on, or
 * stop); one deadline for the whole request.
 */
export class AttemptLoop {
  readonly #stats: TargetStats;
  readonly #metrics: Metrics;
  readonly #health: HealthMonitor;
  readonly #network: NetworkWatch;
  readonly #breakers: Breakers;

  constructor(parts: AttemptLoopParts) {
    this.#stats = parts.stats;
    this.#metrics = parts.metrics;
    this.#health = parts.health;
    this.#network = parts.network;
    this.#breakers = parts.breakers;
  }

  /**
   * Tries the plan's targets in order until one answers. `run` makes one attempt on one target
   * within the given time limits and resolves once it has something to give the client.
   */
  async run<T>(
    plan: Plan,
    context: RequestContext,
    run: RunAttempt<T>,
    /** Filled with every target attempted, so a later continuation does not go back to them. */
    tried = new Set<string>(),
    /** Why a target cannot serve this request, known before calling it (see target-fit.ts). */
    unsuitable?: (target: Target) => string | undefined,
    /**
     * When the request's time is up (performance.now()'s clock), for a run that goes on with a request
     * already under way (a continuation): the whole request keeps one deadline, `timeouts.totalMs`
     * (or the client's x-tandem-deadline-ms) from its start. Default: `totalMs` from now.
     */
    deadlineAt = performance.now() + plan.policy.timeouts.totalMs,
  ): Promise<LoopOutcome<T>> {
    const { timeouts } = plan.policy;
    const policy = plan.retry;
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
        const breaker = this.#breakers.for(target.name);
        // `n` counts retries on this target; a key rotation is an attempt of its own but spends none.
        let rotations = 0;
        // A retry is counted in tandem_retries_total once it is sent: the breaker may open, or the
        // deadline pass, during its backoff, and then it never is (the attempt list says breaker_open).
        let retrying = false;
        for (let n = 0; n < policy.attempts; n++) {
          if (!breaker.allow()) {
            failed.push({
              target: target.name,
              code: "breaker_open",
              message: `circuit open for ${breaker.retryInMs} ms more`,
              ms: 0,
              retryAfterMs: breaker.retryInMs,
            });
            break;
          }
          const remaining = deadlineAt - performance.now();
          if (remaining <= 0) {
            breaker.release();
            return { failed, attempts, deadlinePassed: true, lastError };
          }
          if (retrying) this.#metrics.retries.inc({ target: target.name });
          retrying = false;
          attempts++;
          tried.add(target.name);
          const startedAt = performance.now();
          const limits = {
            ...timeouts,
            firstTokenMs: this.#firstTokenLimit(target, timeouts),
            totalMs: Math.min(timeouts.totalMs, Math.ceil(remaining)),
            ...(plan.clientDeadlineMs !== undefined && { clientDeadlineMs: plan.clientDeadlineMs }),
          };
          const hedge =
            n === 0 && plan.policy.hedge
              ? this.#hedgeCandidate(plan, target, tried, anyHealthy, anyFit ? whyUnfit : undefined)
              : undefined;
          try {
            let value: T;
            let answered = target;
            // Why a hedge answered instead of the target before it (which was cancelled, not failed).
            let hedgedPast: string | undefined;
            if (hedge) {
              const won = await this.#hedged(plan, target, hedge, limits, breaker, run, context, failed, tried);
              value = won.value;
              answered = won.target;
              if (won.hedged) attempts++;
              if (won.afterMs !== undefined) hedgedPast = `${target.name}: hedged after ${won.afterMs} ms (no first token yet)`;
            } else {
              value = await run(target, limits, breaker, context.signal);
            }
            if (!isUnderWay(value)) this.#metrics.attempts.inc({ target: answered.name, outcome: "ok" });
            if (!answered.local) this.#network.success();
            const answeredTier = plan.tiers.findIndex((t) => t.includes(answered));
            // What the tiers above did: their failures, and a hedge's head start (either may be all there is).
            const why = [describeAttempts(failed), hedgedPast].filter((part) => part !== undefined && part !== "").join("; ");
            // Said here, counted in tandem_degraded_answers_total by the caller that gives the answer (once
            // per answer: a continuation's own run must not count its answer again).
            const degraded = answeredTier > 0 ? `tier ${answeredTier + 1} answered${why === "" ? "" : `; ${why}`}` : undefined;
            return { value, meta: { route: plan.route, target: answered.name, attempts, degraded }, earlier: failed, deadlineAt };
          } catch (err) {
            if (hedge && tried.has(hedge.name)) attempts++;
            const error = GatewayError.from(err);
            const next = policy.afterFailure(error, n, deadlineAt - performance.now(), rotations);
            this.#metrics.attempts.inc({ target: target.name, outcome: attemptOutcome(error) });
            if (next.action === "canceled") {
              breaker.release();
              // The request is counted under its route (and the target it was waiting on) as one whose client left.
              throw noteErrorMeta(error, { route: plan.route, target: target.name, attempts });
            }
            if (policy.countsAgainstTarget(error)) breaker.failure();
            else breaker.release();
            if (!target.local && isNetworkFailure(error)) this.#network.failure(target.providerName);
            lastError = error;
            failed.push(failedAttempt(target.name, error, performance.now() - startedAt));
            if (next.action === "stop") throw noteErrorMeta(error, { route: plan.route, target: target.name, attempts });
            if (next.action === "next") break;
            if (next.action === "rotate-key") {
              // The pool set the key aside and has another ready: the same target again, at once.
              rotations++;
              n--;
              continue;
            }
            retrying = true;
            try {
              await sleep(next.delayMs, context.signal);
            } catch (abort) {
              throw new GatewayError("canceled", "The client disconnected", { cause: abort });
            }
          }
        }
        // A move to the next target: the last one has none to move to (its failure ends the request).
        if (hasLaterTarget(plan, target))
          this.#metrics.failovers.inc({ route: plan.route ?? "", code: failed.at(-1)?.code ?? "" });
      }
    }
    return { failed, attempts, deadlinePassed: false, lastError };
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
      if (this.#breakers.state(t.name) === "open") return false;
      const load = t.provider.load?.(t.upstreamModel);
      return !load || load.active < load.slots;
    });
  }

  /** The target a hedge would start beside `primary`: the next untried, healthy and suitable one whose breaker is closed. */
  #hedgeCandidate(
    plan: Plan,
    primary: Target,
    tried: Set<string>,
    anyHealthy: boolean,
    whyUnfit: ((t: Target) => string | undefined) | undefined,
  ): Target | undefined {
    const order = plan.tiers.flat();
    for (const t of order.slice(order.indexOf(primary) + 1)) {
      if (tried.has(t.name) || (anyHealthy && !this.#health.isHealthy(t.providerName))) continue;
      if (whyUnfit?.(t) !== undefined) continue;
      if (this.#breakers.state(t.name) !== "closed") continue;
      return t;
    }
    return undefined;
  }

  /**
   * A hedged attempt: `primary` starts; if it has no first token after the hedge delay, `hedge` starts
   * too, and the first to produce one answers while the other is cancelled (its upstream request
   * aborted); a winning hedge comes with `afterMs`, for the degraded header, and `hedged` says the
   * hedge was started (an attempt of its own). The cancelled one did not fail: it is taken out of
   * `tried`, so that when the winner's answer then fails (a quality check, a stream that breaks) the
   * route can still go on to it, as it would have without a hedge. One that failed before the race
   * was decided is recorded in `failed` and stays tried. When both fail, the primary's error is
   * thrown for the caller's usual handling.
   */
  async #hedged<T>(
    plan: Plan,
    primary: Target,
    hedge: Target,
    timeouts: Timeouts,
    breaker: CircuitBreaker,
    run: RunAttempt<T>,
    context: RequestContext,
    failed: FailedAttempt[],
    tried: Set<string>,
  ): Promise<{ value: T; target: Target; hedged: boolean; afterMs?: number }> {
    type Settled = { ok: true; value: T; target: Target } | { ok: false; error: GatewayError; target: Target };
    interface Runner {
      target: Target;
      breaker: CircuitBreaker;
      controller: AbortController;
      settled: Promise<Settled>;
      startedAt: number;
      /** Its error, once it has failed. */
      readonly failure: GatewayError | undefined;
    }
    const start = (target: Target, b: CircuitBreaker): Runner => {
      const controller = new AbortController();
      const onAbort = () => controller.abort(context.signal.reason);
      if (context.signal.aborted) controller.abort(context.signal.reason);
      else context.signal.addEventListener("abort", onAbort, { once: true });
      let failure: GatewayError | undefined;
      const startedAt = performance.now();
      const settled = run(target, timeouts, b, controller.signal).then(
        (value): Settled => ({ ok: true, value, target }),
        (err): Settled => {
          failure = GatewayError.from(err);
          return { ok: false, error: failure, target };
        },
      );
      return {
        target,
        breaker: b,
        controller,
        settled,
        startedAt,
        get failure() {
          return failure;
        },
      };
    };
    // Rounded: it is said in x-tandem-degraded, as every other time there is.
    const afterMs = Math.round(
      plan.policy.hedge?.afterMs ?? Math.min(5000, Math.max(50, 2 * (this.#stats.ttftMs(primary.name) ?? 500))),
    );
    const first = start(primary, breaker);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), afterMs);
    });
    const early = await Promise.race([first.settled, late]);
    clearTimeout(timer);
    const unwrap = (s: Settled): { value: T; target: Target; hedged: false } => {
      if (s.ok) return { value: s.value, target: s.target, hedged: false };
      throw s.error;
    };
    const hedgeBreaker = this.#breakers.for(hedge.name);
    if (early || !hedgeBreaker.allow()) return unwrap(early ?? (await first.settled));
    tried.add(hedge.name);
    this.#metrics.hedges.inc({ route: plan.route ?? "", target: hedge.name });
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
      if (loser.failure !== undefined) {
        // It failed before the other answered: a failure like any other, listed with the attempts.
        this.#recordFailure(plan, loser.target, loser.breaker, loser.failure, loser.startedAt, failed);
      } else {
        loser.controller.abort(new GatewayError("canceled", "another target answered first (hedge)"));
        // Cancelled, not failed: a continuation may still go to it.
        tried.delete(loser.target.name);
        void loser.settled.then(async (s) => {
          // One that had started too is closed unread (its relay counts it); one stopped before
          // its first token is counted here, as the loop counts an attempt that ended so.
          if (s.ok) await (s.value as Partial<AnswerUnderWay>).discard?.();
          else this.#metrics.attempts.inc({ target: s.target.name, outcome: attemptOutcome(s.error) });
          loser.breaker.release();
        });
      }
      // `afterMs` says the hedge won: started after that long without a first token from the primary.
      return winner.target === primary
        ? { value: winner.value, target: primary, hedged: true }
        : { value: winner.value, target: hedge, hedged: true, afterMs };
    }
    this.#recordFailure(plan, hedge, hedgeBreaker, second.failure as GatewayError, second.startedAt, failed);
    return unwrap(await first.settled);
  }

  /** A hedged attempt that failed, beside the one the loop records itself: its breaker, its count, the attempt list. */
  #recordFailure(
    plan: Plan,
    target: Target,
    breaker: CircuitBreaker,
    error: GatewayError,
    startedAt: number,
    failed: FailedAttempt[],
  ): void {
    this.#metrics.attempts.inc({ target: target.name, outcome: attemptOutcome(error) });
    if (error.code !== "canceled" && plan.retry.countsAgainstTarget(error)) breaker.failure();
    else breaker.release();
    if (!target.local && isNetworkFailure(error)) this.#network.failure(target.providerName);
    failed.push(failedAttempt(target.name, error, performance.now() - startedAt));
  }
}
