import type { Config } from "../config/schema.js";
import { countLargeTextsInSlices } from "../context/count-in-slices.js";
import { loadTokenCounter } from "../context/estimate-input-tokens.js";
import { collectText } from "../context/summarize-history.js";
import type {
  ChatStream,
  Gateway,
  KeptAlive,
  LoadedModelStatus,
  ModelEntry,
  ModelLibrary,
  NativeRequest,
  RequestContext,
} from "../core/index.js";
import {
  type ChatRequest,
  type EmbedRequest,
  GatewayError,
  markStep,
  nameVariants,
  noteErrorMeta,
  type StreamEvent,
} from "../core/index.js";
import type { PullEvent, PullResult } from "../models/index.js";
import {
  decideChatPrivacy,
  decideEmbedPrivacy,
  headerDeclaredPrivate,
  requestTextLength,
  SENSITIVITY_HEADER,
} from "../privacy/index.js";
import { DEFAULT_ANSWER_LIMITS } from "../providers/http/answer-limits.js";
import { listsOwnModels } from "../providers/provider-kind.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import { Attempts, type AttemptUsage, type Summarize } from "./attempt.js";
import { describeAttempts, everyTargetRefused, type FailedAttempt, noAnswerError, noAnswerMeta } from "./attempt-log.js";
import { AttemptLoop } from "./attempt-loop.js";
import { Breakers } from "./breakers.js";
import type { Catalog, Target } from "./catalog.js";
import type { BreakerState } from "./circuit-breaker.js";
import { Continuation } from "./continuation.js";
import { countAsSent } from "./count-as-sent.js";
import type { HealthMonitor } from "./health-monitor.js";
import { LocalEngineService } from "./local-engine-service.js";
import { NetworkWatch } from "./network-watch.js";
import { type Plan, Planner, streamsUpstream } from "./plan.js";
import { DEFAULT_PRIVACY, type EgressSink, LARGE_REQUEST_TEXT, type Privacy, PrivacyGuard } from "./privacy-guard.js";
import { crossesNoWire, fitsNoWindow, rawPromptRefusal, turnlessRefusal, unsuitability, windowFor } from "./target-fit.js";

export type { EgressSink } from "./privacy-guard.js";

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
  /**
   * Told each upstream attempt's usage (AttemptUsage: whether its target answered it, the tokens it
   * reported), by target, where /metrics counts them: for the store's usage per target and day, which
   * then agrees with tandem_attempts_total's `ok` and tandem_tokens_total. Every attempt counts, a
   * client's request's or one the router makes of its own (a route's summarizer). Default: none.
   */
  usage?: (target: string, usage: AttemptUsage) => void;
}

/**
 * The gateway the dialects call, as a facade over the router's parts, each with one job:
 * - `Planner` (plan.ts): a model name or route to tiers of targets and the route's policy;
 * - `PrivacyGuard` (privacy-guard.ts): classification, local-only pruning, the egress-audit gate;
 * - `AttemptLoop` (attempt-loop.ts) with the route's `RetryPolicy` (retry-policy.ts): per target,
 *   bounded retries with exponential backoff and full jitter (an upstream's Retry-After honoured when
 *   within the route's maxMs and the deadline), key rotations, breakers, health, spill-over, hedging,
 *   on to the next target and tier; one deadline for the whole request;
 * - `Attempts` (attempt.ts): one attempt on one target and the relay of its answer;
 * - `Continuation` (continuation.ts): quality checks on the answer, and going on elsewhere when it
 *   breaks after it has started;
 * - `LocalEngineService` (local-engine-service.ts): pull, keep-alive, loaded models, the library.
 * The client is told which target answered, how many attempts it took and whether a lower tier
 * answered. When nothing can answer: noAnswerError (attempt-log.ts: a 503/504 listing every attempt,
 * a 400 when every target refused the request for what it is), or with `onExhausted: notice` a
 * short assistant message saying so.
 */

export class Router implements Gateway {
  readonly #catalog: Catalog;
  readonly #metrics: Metrics;
  readonly #network: NetworkWatch;
  readonly #breakers: Breakers;
  readonly #planner: Planner;
  readonly #guard: PrivacyGuard;
  readonly #loop: AttemptLoop;
  readonly #attempts: Attempts;
  readonly #continuation: Continuation;
  readonly #local: LocalEngineService;

  constructor(
    catalog: Catalog,
    stats: TargetStats,
    metrics: Metrics,
    health: HealthMonitor,
    breaker: { failureThreshold: number; cooldownMs: number },
    options: RouterOptions = {},
  ) {
    this.#catalog = catalog;
    this.#metrics = metrics;
    this.#network = options.network ?? new NetworkWatch();
    this.#breakers = new Breakers(breaker, metrics);
    this.#planner = new Planner(catalog, stats);
    this.#guard = new PrivacyGuard(catalog, metrics, options.privacy ?? DEFAULT_PRIVACY, options.egress);
    this.#loop = new AttemptLoop({ stats, metrics, health, network: this.#network, breakers: this.#breakers });
    this.#attempts = new Attempts({
      stats,
      metrics,
      health,
      guard: this.#guard,
      ...(options.usage && { usage: options.usage }),
    });
    this.#continuation = new Continuation({
      loop: this.#loop,
      attempts: this.#attempts,
      metrics,
      stats,
      guard: this.#guard,
      maxAnswerBytes: options.maxAnswerBytes ?? DEFAULT_ANSWER_LIMITS.maxAnswerBytes,
    });
    this.#local = new LocalEngineService(catalog, this.#planner);
  }

  /** Since when the network is taken for down (cloud targets skipped), for /v1/status; undefined while up. */
  get offlineSince(): number | undefined {
    return this.#network.offlineSince;
  }

  /** The breaker state of a target, for /v1/status. */
  breakerState(target: string): BreakerState {
    return this.#breakers.state(target);
  }

  async chat(asked: ChatRequest, context: RequestContext): Promise<ChatStream> {
    const request = withDeclaredPrivate(asked, headerDeclaredPrivate(context.headers));
    const planned = await this.#planFor(request.model, context.headers);
    context.onRouted?.(planned.route);
    try {
      return await this.#chat(planned, request, context);
    } catch (err) {
      // Refused before any attempt (privacy, the window, the wire): the error answer still names the route.
      throw typeof err === "object" && err !== null ? noteErrorMeta(err, { route: planned.route, attempts: 0 }) : err;
    }
  }

  async #chat(planned: Plan, request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    // Awaited only when there is something to wait for: most requests are small.
    const scanning = this.#guard.classifyLarge(planned, request, context.headers);
    const classified = scanning === undefined ? undefined : await scanning;
    const { plan, privacy } = this.#guard.guard(
      planned,
      (header, settings) => decideChatPrivacy(request, header, settings, classified),
      context.headers,
    );
    markStep("routed");
    const tried = new Set<string>();
    // Tokens are counted only where a target's window is known (the tokenizer is not even loaded
    // otherwise); a large conversation is tokenized in slices first, so counting it does not stall
    // other clients.
    const windowed = plan.tiers.some((tier) => tier.some((t) => windowFor(t, request) !== undefined));
    const counter = windowed ? await loadTokenCounter() : undefined;
    const count =
      counter && requestTextLength(request) >= LARGE_REQUEST_TEXT ? await countLargeTextsInSlices(request, counter) : counter;
    if (count && fitsNoWindow(plan.tiers.flat(), request, count)) {
      throw new GatewayError(
        "context_length_exceeded",
        `The conversation does not fit the context window of ${plan.tiers
          .flat()
          .map((t) => `${t.name} (${windowFor(t, request)} tokens)`)
          .join(", ")} with room for the answer, and truncation is disabled.`,
        { retryable: false },
      );
    }
    const kept = plan.tiers.flat();
    const refused = crossesNoWire(
      kept,
      request,
      privacy && { out: planned.tiers.flat().filter((t) => !kept.includes(t)), reason: privacy.decision.reason },
    );
    if (refused) throw refused;
    const unanswerable = rawPromptRefusal(kept, request);
    if (unanswerable) throw unanswerable;
    const turnless = turnlessRefusal(kept, request);
    if (turnless) throw turnless;
    const unfit = (t: Target) => unsuitability(t, request, count);
    const summarize =
      request.history === undefined
        ? undefined
        : this.#summarizer(plan, context, privacy, request.sensitivityFloor, request.declaredPrivate);
    const outcome = await this.#loop.run(
      plan,
      context,
      (target, timeouts, breaker, signal) =>
        this.#attempts.chat(
          target,
          request,
          { ...context, signal },
          timeouts,
          breaker,
          privacy,
          streamsUpstream(plan, request),
          summarize,
        ),
      tried,
      unfit,
    );
    if ("value" in outcome) {
      const { events, fitted, native, warnings } = outcome.value;
      if (fitted) outcome.meta.degraded = outcome.meta.degraded ? `${outcome.meta.degraded}; ${fitted}` : fitted;
      if (native) outcome.meta.native = true;
      if (warnings) outcome.meta.warnings = warnings;
      if (privacy) outcome.meta.sensitivity = privacy.decision.sensitivity;
      if (request.declaredPrivate !== undefined && request.declaredPrivate.length > 0) outcome.meta.declaredPrivate = true;
      return {
        meta: outcome.meta,
        // Once the answer's first output passed its checks (or with the error that leaves none).
        events: await this.#continuation.relay(
          plan,
          request,
          context,
          outcome.meta,
          events,
          tried,
          privacy,
          unfit,
          outcome.earlier,
          outcome.deadlineAt,
        ),
      };
    }
    // A request no target will ever take is answered as such: a notice would have the user try again.
    if (plan.policy.onExhausted === "notice" && plan.route !== undefined && !everyTargetRefused(outcome)) {
      return this.#notice(plan, outcome.failed);
    }
    throw noteErrorMeta(noAnswerError(plan.name, outcome), noAnswerMeta(plan.route, outcome));
  }

  async embed(request: EmbedRequest, context: RequestContext) {
    const { plan, privacy } = this.#guard.guard(
      await this.#planFor(request.model, context.headers),
      // The end-user id goes upstream with the input: it is read as the input is.
      (header, settings) =>
        decideEmbedPrivacy(
          request.user ? [...request.input, request.user] : request.input,
          header,
          settings,
          context.privacyFloor,
          headerDeclaredPrivate(context.headers),
        ),
      context.headers,
      // A query embedded for a client's request to a route (memory recall, file_search) follows that route's privacy.
      context.privacyRoute,
    );
    const outcome = await this.#loop.run(plan, context, (target, timeouts, breaker, signal) =>
      this.#attempts.embed(target, request, timeouts, breaker, signal, privacy),
    );
    if ("value" in outcome) {
      if (outcome.meta.degraded !== undefined) this.#metrics.degraded.inc({ route: plan.route ?? "", reason: "lower_tier" });
      if (privacy) outcome.meta.sensitivity = privacy.decision.sensitivity;
      const { unsent, ...result } = outcome.value;
      // Named, never dropped silently (a redacted request's end-user id: see Attempts.embed).
      if (unsent !== undefined) outcome.meta.warnings = [...(outcome.meta.warnings ?? []), ...unsent];
      return { meta: outcome.meta, result };
    }
    throw noteErrorMeta(noAnswerError(plan.name, outcome), noAnswerMeta(plan.route, outcome));
  }

  /**
   * The route's summarizer as the attempts call it: a request of its own through this router (so its
   * target's privacy, retries and audit apply), marked with the conversation's sensitivity so that a
   * private history goes only where private data may go; asked once per cut, whichever target needs it.
   */
  #summarizer(
    plan: Plan,
    context: RequestContext,
    privacy: Privacy | undefined,
    /** The conversation's stored floor (ChatRequest.sensitivityFloor), for when no decision was made here. */
    floor: ChatRequest["sensitivityFloor"],
    /** What the conversation holds that was declared private (ChatRequest.declaredPrivate): so does its summary's request. */
    declaredPrivate: ChatRequest["declaredPrivate"],
  ): Summarize | undefined {
    const name = plan.policy.summarizer;
    if (name === undefined) return undefined;
    const header = context.headers[SENSITIVITY_HEADER];
    const level = privacy?.decision.sensitivity ?? (Array.isArray(header) ? header[0] : header);
    const asked = new Map<string, Promise<{ text: string; by: string }>>();
    return (request, signal) => {
      const key = JSON.stringify(request.messages);
      let answer = asked.get(key);
      if (answer === undefined) {
        answer = this.chat(
          {
            ...request,
            model: name,
            ...(floor !== undefined && { sensitivityFloor: floor }),
            ...(declaredPrivate !== undefined && { declaredPrivate }),
          },
          { signal, headers: level === undefined ? {} : { [SENSITIVITY_HEADER]: level } },
        ).then(async (started) => {
          // Its tokens are in the usage rows as any attempt's are (RouterOptions.usage).
          const { text } = await collectText(started.events);
          return { text, by: started.meta.target };
        });
        asked.set(key, answer);
      }
      return answer;
    };
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

  async models(): Promise<ModelEntry[]> {
    await this.#catalog.refreshLocal();
    return this.#catalog.entries();
  }

  async model(name: string): Promise<ModelEntry> {
    const resolved = await this.#resolveFresh(name, () => this.#catalog.resolve(name));
    if (resolved.kind === "route") {
      return this.#catalog.entries().find((e) => e.kind === "route" && e.name === resolved.name) as ModelEntry;
    }
    const t = resolved.target;
    const names = nameVariants(t.name);
    return (
      this.#catalog.entries().find((e) => names.includes(e.name)) ?? {
        name: t.name,
        kind: "target",
        provider: t.providerName,
        providerKind: t.provider.kind,
        upstreamModel: t.upstreamModel,
        contextWindow: t.contextWindow,
        ...(t.trainedContext !== undefined && { trainedContext: t.trainedContext }),
      }
    );
  }

  /** The plan for a request's model (see #resolveFresh). */
  #planFor(model: string, headers: RequestContext["headers"]): Promise<Plan> {
    return this.#resolveFresh(model, () => this.#planner.planFor(model, headers));
  }

  /**
   * Resolves a model name against the local engines' folders as they are now. A name without a
   * provider (Ollama's `mine`, or `hf.co/owner/repo:Q8_0` as it was pulled) that no route or listed
   * local model has is looked for again once the folders were read anew, so a model installed since
   * (`tandem models pull` beside the server, a file copied in, an `/api/pull` just done) is served at
   * once. So is a local engine's model named with its provider (`local/mine`) that the last listing
   * did not have: read first, it is a target of its own (its own breaker and status line) rather than
   * one of the provider's untracked names, which share `local/other`, so that files that cannot be
   * loaded never open the breaker of a good one. Still not there, it does not exist: the folder is
   * the engine's whole list, and a 404 names what it holds.
   */
  async #resolveFresh<T>(name: string, resolve: () => T): Promise<T> {
    let resolved: T;
    try {
      resolved = resolve();
    } catch (err) {
      const slash = name.indexOf("/");
      const namesProvider = slash > 0 && this.#catalog.hasProvider(name.slice(0, slash));
      if (namesProvider || !(err instanceof GatewayError) || err.code !== "not_found" || err.param !== "model") throw err;
      await this.#catalog.refreshLocal();
      return resolve();
    }
    if (this.#unlistedEngineTarget(name) === undefined) return resolved;
    await this.#catalog.refreshLocal();
    const unlisted = this.#unlistedEngineTarget(name);
    if (unlisted !== undefined) throw this.#localModelNotFound(unlisted);
    return resolve();
  }

  /** A local engine's model named directly (`local/mine`) that the engine's last listing does not have. */
  #unlistedEngineTarget(name: string): Target | undefined {
    const slash = name.indexOf("/");
    if (slash <= 0 || !listsOwnModels(this.#catalog.slots.get(name.slice(0, slash)))) return undefined;
    const resolved = this.#catalog.resolve(name);
    return resolved.kind === "target" && !this.#catalog.listed(resolved.target) ? resolved.target : undefined;
  }

  /** In the engine's words (LlamaCppProvider), as a chat naming this model would be answered. */
  #localModelNotFound(target: Target): GatewayError {
    const local = this.#catalog.entries().filter((e) => e.kind === "target" && e.provider === target.providerName);
    const listed =
      local.length > 0
        ? `Local models: ${local.map((e) => e.name).join(", ")}.`
        : "No local models are installed (run `tandem models pull`).";
    return new GatewayError("not_found", `The model '${target.name}' does not exist. ${listed}`, {
      param: "model",
      target: target.name,
      retryable: false,
    });
  }

  async countTokens(request: ChatRequest, context: RequestContext) {
    const plan = await this.#planFor(request.model, context.headers);
    const target = plan.tiers.flat()[0];
    // No target resolved: as a chat is answered (a 503 not to retry when every target lasts as it failed).
    if (!target) throw noAnswerError(plan.name, { failed: plan.unresolved, deadlinePassed: false });
    const meta = { route: plan.route, target: target.name, attempts: 0, degraded: undefined };
    // A local model counts with its own tokenizer and chat template, as its usage will say; others
    // are estimated. A request that may be cut is counted as fitted to the target's window.
    const summarizer = plan.policy.summarizer !== undefined;
    return { meta, inputTokens: await countAsSent(target, request, summarizer, context.signal) };
  }

  loadedModels(): LoadedModelStatus[] {
    return this.#local.loadedModels();
  }

  pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult> {
    return this.#local.pull(reference, onEvent, signal);
  }

  modelLibrary(): ModelLibrary {
    return this.#local.modelLibrary();
  }

  async describeModel(name: string, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const resolved = this.#catalog.resolve(name);
    if (resolved.kind !== "target" || !resolved.target.provider.describeModel) return undefined;
    try {
      return await resolved.target.provider.describeModel(resolved.target.upstreamModel, signal);
    } catch {
      // A description is a courtesy: an upstream that cannot give one now leaves tandem's own.
      return undefined;
    }
  }

  async keepAlive(
    name: string,
    keepAliveMs: number | undefined,
    signal: AbortSignal,
    native?: NativeRequest,
  ): Promise<KeptAlive> {
    const entry = await this.model(name);
    const answer = await this.#local.keepAlive(name, keepAliveMs, signal, native);
    return answer === undefined ? { entry } : { entry, answer };
  }
}

/**
 * The request with what its loopback declared private from outside its body (DECLARED_PRIVATE_HEADER:
 * a line of a batch input file uploaded as private) added to what it holds of its own.
 */
function withDeclaredPrivate(request: ChatRequest, declared: readonly string[] | undefined): ChatRequest {
  if (declared === undefined) return request;
  return { ...request, declaredPrivate: [...(request.declaredPrivate ?? []), ...declared] };
}
