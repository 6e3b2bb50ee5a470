import { countLargeTextsInSlices } from "../context/count-in-slices.js";
import { loadTokenCounter } from "../context/estimate-input-tokens.js";
import { type FitResult, fitConversation, fitConversationByModelCount } from "../context/fit-conversation.js";
import {
  summarizeInPieces,
  summaryBudget,
  summaryRequest,
  summaryText,
  withEarlierSummary,
  withSummary,
} from "../context/summarize-history.js";
import type { RequestContext } from "../core/index.js";
import {
  type AliasedToolNames,
  aliasToolNames,
  type ChatRequest,
  clientFieldName,
  countFileParts,
  DONE,
  droppedHistoryImages,
  droppedReasoning,
  type EarlierSummary,
  type EmbedRequest,
  type EmbedResult,
  GatewayError,
  isEgressAuditError,
  isProviderKeyMissing,
  type Message,
  markStep,
  mendTurns,
  noEmbeddings,
  type ReadyStream,
  reasoningForTarget,
  renameToolCalls,
  type StreamEvent,
  takeReady,
  unsentContextSize,
  unsentRawPrompt,
  withoutHistoryImages,
} from "../core/index.js";
import { redactNativeBody, requestTextLength } from "../privacy/index.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import { attemptOutcome } from "./attempt-log.js";
import type { AnswerUnderWay } from "./attempt-loop.js";
import type { Target } from "./catalog.js";
import type { CircuitBreaker } from "./circuit-breaker.js";
import { Deadline, type Timeouts } from "./deadline.js";
import type { HealthMonitor } from "./health-monitor.js";
import { LARGE_REQUEST_TEXT, type Privacy, type PrivacyGuard } from "./privacy-guard.js";
import { countsAgainstTarget } from "./retry-policy.js";
import { isKeepAlive, outputTokens } from "./stream-progress.js";
import { answerRoom, mediaRulesFor, readsNoImages, takesOwnBody, windowFor } from "./target-fit.js";

/**
 * A conversation cut to a target's window, and what x-tandem-degraded says of it; undefined when the
 * whole conversation fits. Only what must go is left out: the summary stored for the history's older
 * turns goes in their place first (the turns after it stay whole), then, when that is still too
 * long, the oldest turns left are cut, summarized by the route's summarizer when it has one (the
 * summary kept with the stored history, so later turns reuse it), else left out. `plain`: nothing
 * was put in the place of what was cut (no summary), so the client's own body can be cut the same way.
 */
async function cutToWindow(
  whole: ChatRequest,
  /** `whole` fitted to the window, as `fitTo` fits it. */
  fitted: FitResult,
  window: number,
  fitTo: (request: ChatRequest, tokens: number) => Promise<FitResult>,
  history: ChatRequest["history"],
  summarize: Summarize | undefined,
  unsafe: ((text: string) => boolean) | undefined,
  /** Each message of `whole` that was changed for the target (earlier images left out), to the one the history composed. */
  composed: ReadonlyMap<Message, Message> | undefined,
  signal: AbortSignal,
  target: string,
): Promise<{ request: ChatRequest; said: string; plain: boolean } | undefined> {
  if (fitted.dropped === 0) return undefined;
  const into = `${target}'s ${window}-token window`;
  const notes: string[] = [];
  if (history?.unusable !== undefined) notes.push(history.unusable);
  let base = whole;
  let fit = fitted;
  const earlier = history?.earlier;
  if (earlier !== undefined && unsafe?.(earlier.message.content) === true) {
    notes.push(`stored summary by ${earlier.by} not sent: it holds private data this target may not be sent`);
  } else if (earlier !== undefined) {
    base = withEarlierSummary(whole, earlier, composed);
    fit = await fitTo(base, window);
    if (fit.dropped === 0) {
      return {
        request: base,
        said: `history summarized by ${earlier.by}: ${earlier.replaces.length} older message(s) (stored summary; conversation fitted to ${into})`,
        plain: false,
      };
    }
  }
  const stored = base === whole ? undefined : (earlier as EarlierSummary);
  if (history !== undefined && summarize !== undefined) {
    // Room is kept for the summary of what the cut leaves out.
    const room = summaryBudget(window);
    const roomy = await fitTo(base, window - room);
    const summarized = await summarizeCut(
      base,
      roomy.request,
      history,
      stored,
      room,
      summarize,
      signal,
      unsafe,
      target,
      composed,
    );
    if (typeof summarized !== "string") {
      const count = summarized.count + (stored?.replaces.length ?? 0);
      const note = summarized.note === undefined ? "" : `; ${summarized.note}`;
      return {
        request: summarized.request,
        said: `history summarized by ${summarized.by}: ${count} older message(s) (conversation fitted to ${into}${note})`,
        plain: false,
      };
    }
    notes.unshift(`no summary: ${summarized}`);
  }
  const given = stored === undefined ? "" : `, ${stored.replaces.length} more given as ${stored.by}'s stored summary`;
  const why = notes.length === 0 ? "" : ` (${notes.join("; ")})`;
  return {
    request: fit.request,
    said: `conversation fitted to ${into}: ${fit.dropped} older message(s) left out${given}${why}`,
    plain: stored === undefined,
  };
}

/**
 * The turns a cut left out, summarized by the route's summarizer and put in their place (the summary
 * kept with the stored history, so later turns reuse it); or why not, for x-tandem-degraded.
 */
async function summarizeCut(
  whole: ChatRequest,
  fitted: ChatRequest,
  history: NonNullable<ChatRequest["history"]>,
  /** The summary stored earlier, when `whole` carries it: the new one is made on it and takes its place. */
  earlier: EarlierSummary | undefined,
  room: number,
  summarize: Summarize,
  signal: AbortSignal,
  unsafe: ((text: string) => boolean) | undefined,
  target: string,
  composed: ReadonlyMap<Message, Message> | undefined,
): Promise<{ request: ChatRequest; by: string; count: number; note?: string } | string> {
  const kept = new Set(fitted.messages);
  const dropped = whole.messages.filter((m) => !kept.has(m)).map((m) => composed?.get(m) ?? m);
  const previous = earlier === undefined ? undefined : summaryText(earlier.message);
  try {
    // In pieces where the summarizer's own window cannot hold the whole cut (a small local model).
    const made = await summarizeInPieces(
      previous,
      dropped,
      (summary, turns) => summarize(summaryRequest("", summary, turns, room), signal),
      async (answer) => answer.text,
    );
    const { text, by } = made.answer;
    if (text === "") return `${by} answered with an empty summary`;
    // A summary longer than its room would push the newest turn out: it is cut to the room (about 4 characters a token).
    const summary = text.length > room * 4 ? text.slice(0, room * 4) : text;
    history.keep(summary, dropped, by, target);
    if (unsafe?.(summary)) return `${by}'s summary holds private data this target may not be sent`;
    return {
      request: withSummary(fitted, earlier?.message, summary),
      by,
      count: dropped.length,
      ...(made.skipped > 0 && { note: `${made.skipped} of them too long for the summarizer's window, left out of the summary` }),
    };
  } catch (err) {
    if (signal.aborted) throw err;
    return `the summarizer failed: ${err instanceof GatewayError ? err.code : "error"}`;
  }
}

/** A chat attempt that has its first event: the stream to relay, and what it changed on the way. */
export interface StartedChat extends AnswerUnderWay {
  events: AsyncIterable<StreamEvent>;
  fitted?: string;
  native?: boolean;
  warnings?: string[];
}

/**
 * Asks the route's summarizer (through the router, as a request of its own) for a summary of the
 * turns a cut left out; rejects when it cannot (then the cut stays a plain truncation).
 */
export type Summarize = (request: ChatRequest, signal: AbortSignal) => Promise<{ text: string; by: string }>;

/**
 * What one upstream attempt used: whether its target answered it (a request the target served, as
 * tandem_attempts_total counts `ok`) and the tokens the target reported for it (as
 * tandem_tokens_total counts them), whatever became of the answer: a broken one's reported input,
 * an answer continued on another target, which reports its own.
 */
export interface AttemptUsage {
  answered: boolean;
  inputTokens?: number;
  outputTokens?: number;
}

export interface AttemptParts {
  stats: TargetStats;
  metrics: Metrics;
  health: HealthMonitor;
  guard: PrivacyGuard;
  /**
   * Told each attempt's usage by its target, where /metrics counts it, so that the store's usage per
   * target and day agrees with it. Not told of an attempt that neither answered nor reported tokens.
   */
  usage?: (target: string, usage: AttemptUsage) => void;
}

/**
 * One attempt on one target, and the relay of its answer: fits the conversation, redacts and gates
 * what leaves the machine, asks the provider within a Deadline, and records the outcome in the
 * target's breaker, health and stats.
 */
export class Attempts {
  readonly #stats: TargetStats;
  readonly #metrics: Metrics;
  readonly #health: HealthMonitor;
  readonly #guard: PrivacyGuard;
  readonly #usage: AttemptParts["usage"];

  constructor(parts: AttemptParts) {
    this.#stats = parts.stats;
    this.#metrics = parts.metrics;
    this.#health = parts.health;
    this.#guard = parts.guard;
    this.#usage = parts.usage;
  }

  /**
   * One attempt: fits the conversation to the target's window when it is known and too small, starts
   * the upstream answer and waits for its first event (so failures can still fail over). Unless
   * `stream`, a provider that can asks for a whole answer: its first event comes with the last, so
   * the first-token limit is the total one, and its time is not counted as a time to first token.
   */
  async chat(
    target: Target,
    original: ChatRequest,
    context: RequestContext,
    timeouts: Timeouts,
    breaker: CircuitBreaker,
    privacy: Privacy | undefined,
    stream: boolean,
    summarize?: Summarize,
  ): Promise<StartedChat> {
    const whole = !stream && target.provider.answersWhole === true;
    // The client's own body goes only to a target on its wire, and only as the providers' request's
    // `native`, after redaction: the canonical request never carries it further.
    // Nor does the stored history's hook: it is the dialect's, called back here only.
    const { native: raw, history: stored, ...given } = original;
    // An earlier turn's image (one tandem keeps) is left out for a target that reads none, before the
    // conversation is fitted (the target counts what it is sent), and named in the warnings: a
    // conversation is not locked out of text-only targets by an image sent once. An image of the
    // request's own stays, for the target to refuse (a route skipped it already, see target-fit.ts).
    const seen = readsNoImages(target) ? withoutHistoryImages(given.messages) : { messages: given.messages, dropped: 0 };
    const canonical: ChatRequest = seen.dropped === 0 ? given : { ...given, messages: seen.messages };
    // The stored history knows its turns as they were composed: a summary of a cut names those.
    const composed =
      seen.dropped === 0 ? undefined : new Map(seen.messages.map((message, i) => [message, given.messages[i] as Message]));
    let request: ChatRequest = canonical;
    let fitted: string | undefined;
    // The messages a plain cut kept (no summary put in): a target on the client's wire is sent the
    // client's own body with the others cut out (NativeRequest.keepingMessages).
    let cut: ReadonlySet<Message> | undefined;
    const limits: Timeouts = whole ? { ...timeouts, firstTokenMs: timeouts.totalMs, minTokensPerSecond: 0 } : timeouts;
    const window = windowFor(target, original);
    if (window !== undefined) {
      const counter = await loadTokenCounter();
      // A large conversation is tokenized in slices first, so counting it does not stall other clients.
      const estimate =
        requestTextLength(canonical) >= LARGE_REQUEST_TEXT ? await countLargeTextsInSlices(canonical, counter) : counter;
      // A target that counts with its model's own tokenizer (the local engine) is fitted by that count:
      // the GPT tokenizer's estimate can be far under it. Every other target by the estimate, as its
      // upstream cannot be asked without an attempt.
      const countTokens = target.provider.countTokens?.bind(target.provider);
      // Room for the answer as the target is sent it (its own max_tokens, or one that ends at the window).
      const answer = answerRoom(target, canonical);
      const fitTo = async (conversation: ChatRequest, tokens: number): Promise<FitResult> => {
        if (countTokens === undefined) return fitConversation(conversation, tokens, estimate, answer, mediaRulesFor(target));
        // Within the attempt's first-token limit, as the answer would wait: the engine may be loading the model.
        const counting = new Deadline(context.signal, limits, target.name);
        try {
          return await fitConversationByModelCount(
            conversation,
            tokens,
            estimate,
            (r) => countTokens(target.upstreamModel, r, counting.signal),
            answer,
          );
        } catch (err) {
          // As an answer that failed before it began: the limit that passed, or the engine's error.
          const error = this.#guard.withoutPrivateValues(counting.error(err));
          this.#failed(target.name, error);
          throw error;
        } finally {
          counting.dispose();
        }
      };
      const fit = await fitTo(canonical, window);
      // No cut leaves room for the answer, or the whole conversation must fit and does not: not sent
      // over the window (the route moves on; with no target left, the client hears the overflow).
      const unfit =
        fit.unfit ??
        (original.fitToWindow === false && fit.dropped > 0
          ? "the whole conversation does not fit with room for the answer, and truncation is disabled"
          : undefined);
      if (unfit !== undefined) {
        throw new GatewayError(
          "context_length_exceeded",
          `The conversation does not fit ${target.name}'s ${window}-token context window: ${unfit}`,
          { target: target.name, retryable: false },
        );
      }
      // A summary is made (or was stored) after the request was classified: on its way to a cloud
      // target it must hold nothing the redaction cannot replace.
      const unsafe = target.local ? undefined : (text: string) => this.#guard.unredactable(text, privacy);
      const windowCut = await cutToWindow(
        canonical,
        fit,
        window,
        fitTo,
        stored,
        summarize,
        unsafe,
        composed,
        context.signal,
        target.name,
      );
      if (windowCut !== undefined) {
        request = windowCut.request;
        fitted = windowCut.said;
        if (windowCut.plain) cut = new Set(windowCut.request.messages);
        this.#metrics.contextFits.inc({ target: target.name });
      }
    }
    // Leaving the machine: redacted when the policy says so, and every body sent is recorded.
    const redaction = target.local ? undefined : privacy?.decision.redaction;
    const files = redaction === undefined ? 0 : countFileParts(request);
    // An id or cache key that holds a value is left out rather than sent with a placeholder (named in the warnings).
    const redactedOut: string[] = [];
    if (redaction) request = redaction.redactRequest(request, redactedOut);
    // A file whose text was redacted goes as that text: the client's body would carry its bytes,
    // which cannot be redacted, so it goes in canonical form (what only the client's wire carries is
    // then left out, named in the warnings, rather than the bytes sent).
    const filesRedacted = redaction !== undefined && countFileParts(request) < files;
    // Same wire, and the conversation was not fitted (the client's body is the whole conversation),
    // or was cut and the client's body can be cut the same way, whole messages out: every field of
    // the messages kept goes as the client wrote it. Nor were earlier images left out: the client's
    // body (its history inlined) would carry them.
    const onWire = raw !== undefined && takesOwnBody(target, raw.wire, request);
    const cutBody = onWire && cut !== undefined ? raw.keepingMessages?.(cut) : undefined;
    const own = raw !== undefined && cutBody !== undefined ? { ...raw, body: cutBody, text: undefined } : raw;
    const native =
      own !== undefined && onWire && (fitted === undefined || cutBody !== undefined) && !filesRedacted && seen.dropped === 0;
    let warnings = raw === undefined ? undefined : native ? raw.dropped?.slice() : raw.lost();
    if (seen.dropped > 0) warnings = [...(warnings ?? []), droppedHistoryImages(seen.dropped)];
    if (native) {
      // Redacted, the body is no longer the client's text: it is serialised from the redacted body.
      if (redaction) {
        const redacted = redactNativeBody(redaction, own);
        request.native = { ...own, body: redacted.body, text: undefined };
        if (redacted.dropped.length > 0) warnings = [...(warnings ?? []), ...redacted.dropped];
      } else request.native = own;
    } else if (redactedOut.length > 0) {
      // By the client's own names: an Anthropic client's end-user id is its metadata.user_id, say.
      warnings = [...(warnings ?? []), ...redactedOut.map((field) => clientFieldName(field, raw?.wire))];
    }
    let aliases: AliasedToolNames | undefined;
    if (!native) {
      // What only the client's wire carries goes no further than the canonical form (the target was
      // fitted, or no target on the wire was fit to try): named, never dropped silently.
      if (raw?.wireOnly?.length) warnings = [...(warnings ?? []), ...raw.wireOnly.map((w) => w.param)];
      // Earlier turns' reasoning only where the target's wire can read it (a signature only back to its maker).
      const readable = target.provider.reasoningHistoryFor
        ? target.provider.reasoningHistoryFor(request, target.upstreamModel)
        : target.provider.capabilities?.reasoningHistory;
      const history = reasoningForTarget(request.messages, `${target.providerName}/${target.upstreamModel}`, readable);
      if (history.messages !== request.messages) request = { ...request, messages: history.messages };
      if (history.dropped > 0) warnings = [...(warnings ?? []), droppedReasoning(history.dropped)];
      // A history a lenient API took (an Ollama client's, a local model's) as a strict target's API
      // takes it: tool calls and results paired, no empty message; each mend named.
      if (target.provider.capabilities?.strictTurns !== undefined) {
        const mended = mendTurns(request.messages, target.provider.capabilities.strictTurns);
        if (mended.messages !== request.messages) request = { ...request, messages: mended.messages };
        if (mended.mends.length > 0) warnings = [...(warnings ?? []), ...mended.mends];
      }
      // Settings the target's API lacks, or refuses together (Anthropic's thinking and temperature).
      // And a client's `raw` prompt, to a target that can only chat it.
      // Tool names the target's wire cannot take go as aliases; the answer's calls are named back below.
      const maxName = target.provider.capabilities?.maxToolNameLength;
      aliases = maxName === undefined ? undefined : aliasToolNames(request, maxName);
      if (aliases !== undefined) request = aliases.request;
      const unsent = target.provider.unsent?.(request);
      const unraw = [
        ...(request.completion === undefined ? [] : unsentRawPrompt(request, target.provider.capabilities)),
        // A window the client asked for (Ollama's num_ctx) that this target's model cannot be run with.
        ...unsentContextSize(request, target.provider.capabilities),
      ];
      // Named by the client's own fields (an Anthropic client's `stop_sequences`, an Ollama client's `options.seed`).
      const named = [...(unsent ?? []), ...unraw].map((field) => clientFieldName(field, raw?.wire));
      if (named.length > 0) warnings = [...new Set([...(warnings ?? []), ...named])];
    }
    const deadline = new Deadline(context.signal, limits, target.name);
    const startedAt = performance.now();
    markStep("attempt");
    // What the target's model refused of the body its provider built, and was sent again without.
    let refused: readonly string[] | undefined;
    const iterator = target.provider
      .chat(
        {
          ...request,
          upstreamModel: target.upstreamModel,
          connectTimeoutMs: timeouts.connectMs,
          ...(whole && { whole }),
          ...this.#guard.egressHook(target, privacy),
          ...(!native && {
            onUnsent: (fields: readonly string[]) => {
              refused = fields;
            },
          }),
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
        // The upstream's own frames (the same-wire path) are not output either: a role chunk or message_start is not a token.
        if (first.value.type !== "start" && first.value.type !== "usage" && first.value.type !== "frame") break;
        preamble.push(first.value);
      }
    } catch (err) {
      const error = this.#guard.withoutPrivateValues(deadline.error(err));
      deadline.dispose();
      await iterator.return?.();
      this.#failed(target.name, error);
      throw error;
    }
    deadline.tick();
    if (refused !== undefined)
      warnings = [...new Set([...(warnings ?? []), ...refused.map((field) => clientFieldName(field, raw?.wire))])];
    // The breaker hears of the attempt once, when its answer is over (see #relay): a stream that
    // starts and then breaks is a failure, and counting its start as a success first would reset
    // the count, so a target whose every stream broke off would never fail enough times in a row.
    this.#health.markHealthy(target.providerName);
    // The upstream took the model: a name it was given as the client chose it gets its own telemetry now.
    this.#metrics.targets.admit(target.name);
    if (!whole) {
      this.#stats.firstEvent(target.name, performance.now() - startedAt);
      this.#metrics.timeToFirstEvent.observe({ target: target.name }, (performance.now() - startedAt) / 1000);
    }
    const relayed = this.#relay(target.name, [...preamble, first.value], iterator, deadline, startedAt, breaker);
    const named = aliases === undefined ? relayed : renameToolCalls(relayed, aliases.names);
    const events = redaction ? redaction.rehydrateStream(named) : named;
    return {
      events,
      underWay: true,
      // Closes the relay itself: the layers around it may be generators that, never started, would not.
      discard: async () => relayed.return?.(),
      ...(fitted !== undefined && { fitted }),
      ...(native && { native }),
      ...(warnings !== undefined && warnings.length > 0 && { warnings }),
    };
  }

  /** One embeddings attempt: the input redacted for a cloud target when the policy says so, within a Deadline. */
  async embed(
    target: Target,
    request: EmbedRequest,
    timeouts: Timeouts,
    breaker: CircuitBreaker,
    signal: AbortSignal,
    privacy: Privacy | undefined,
  ): Promise<EmbedResult> {
    const deadline = new Deadline(signal, { ...timeouts, firstTokenMs: timeouts.totalMs }, target.name);
    const startedAt = performance.now();
    // Vectors of redacted text: the values never leave, at some cost to how well they match.
    const redaction = target.local ? undefined : privacy?.decision.redaction;
    const input = redaction ? request.input.map((text) => redaction.redactText(text)) : request.input;
    // An end-user id that holds a value is left out (a placeholder would make every such user one).
    const { user, ...rest } = request;
    const withoutHeldUser = user !== undefined && redaction?.holdsValue(user) === true ? rest : request;
    // The client's own body holds the input as it came: a redacted input is sent as tandem builds it.
    const redacted = input.some((text, i) => text !== request.input[i]);
    const sent = redacted && withoutHeldUser.native !== undefined ? withoutNative(withoutHeldUser) : withoutHeldUser;
    try {
      if (!target.provider.embed) throw noEmbeddings(target.provider);
      const result = await target.provider.embed(
        {
          ...sent,
          input,
          upstreamModel: target.upstreamModel,
          connectTimeoutMs: timeouts.connectMs,
          ...this.#guard.egressHook(target, privacy),
        },
        deadline.signal,
      );
      breaker.success();
      this.#health.markHealthy(target.providerName);
      this.#metrics.targets.admit(target.name);
      this.#stats.success(target.name, performance.now() - startedAt);
      this.#countUsage(target.name, { answered: true, inputTokens: result.usage.inputTokens });
      return withoutHeldUser === request ? result : { ...result, unsent: [...(result.unsent ?? []), "user"] };
    } catch (err) {
      const error = this.#guard.withoutPrivateValues(deadline.error(err));
      this.#failed(target.name, error);
      throw error;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Records a failed attempt. Only failures that say something about the target (countsAgainstTarget)
   * reach its stats (error rate and last error in /v1/status): a client's bad request or tandem's own
   * internal failure must not make a working target look sick.
   */
  #failed(target: string, error: GatewayError): void {
    // An audit that could not be written says nothing about the target: nothing was sent to it.
    // Nor a key tandem could not find: nothing was sent.
    if (error.code === "canceled" || error.code === "internal" || isEgressAuditError(error) || isProviderKeyMissing(error))
      return;
    this.#metrics.upstreamErrors.inc({ target, code: error.code });
    if (countsAgainstTarget(error)) this.#stats.failure(target, error);
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
  ): ReadyStream<StreamEvent> {
    let finished = false;
    let closed = false;
    /** The provider's stream said it is done: its own cleanup has run. */
    let ended = false;
    let given = 0;
    // The answer's usage as far as it was reported, each counter's latest value: a target may say
    // it in parts and more than once (Anthropic: its input in message_start, its output in
    // message_delta, either repeated there as running totals), so it is counted once, at the end.
    const usage: { inputTokens?: number; outputTokens?: number } = {};
    const watch = (event: StreamEvent): void => {
      if (event.type === "finish") finished = true;
      else if (event.type === "usage") {
        if (event.usage.inputTokens !== undefined) usage.inputTokens = event.usage.inputTokens;
        if (event.usage.outputTokens !== undefined) usage.outputTokens = event.usage.outputTokens;
      }
    };
    const see = (event: StreamEvent): IteratorResult<StreamEvent> => {
      watch(event);
      return { done: false, value: event };
    };
    // Whatever the end, once: the limits stop, and a provider stream that has not ended is closed, so
    // its cleanup runs (a local model's slot is released, an upstream body drained or dropped) even
    // when the reader leaves after the finish event (e.g. a quality check that fails on it).
    // The attempt's outcome, once its answer is over: `ok` once the target finished it, its error
    // when it broke, `abandoned` when the reader left before the finish (the client went, its
    // leaving aborting the upstream read included, or a check failed the answer).
    let failedWith: GatewayError | undefined;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      deadline.dispose();
      const outcome = failedWith === undefined ? (finished ? "ok" : "abandoned") : attemptOutcome(failedWith);
      this.#metrics.attempts.inc({ target, outcome });
      // The breaker counts the attempt here, once: a success only for an answer the target
      // finished, a failure for a break that says something about the target; an answer its
      // reader left, or one that failed for a reason not the target's, tells it nothing (a
      // half-open breaker's trial is then given to the next request).
      if (outcome === "ok") breaker.success();
      else if (failedWith !== undefined && countsAgainstTarget(failedWith)) breaker.failure();
      else breaker.release();
      this.#countUsage(target, { answered: outcome === "ok", ...usage });
      if (!ended) await iterator.return?.();
    };
    const fail = async (err: unknown): Promise<never> => {
      const error = this.#guard.withoutPrivateValues(deadline.error(err));
      this.#failed(target, error);
      failedWith = error;
      await close();
      throw error;
    };
    const onResult = (
      result: IteratorResult<StreamEvent>,
    ): IteratorResult<StreamEvent> | Promise<IteratorResult<StreamEvent>> => {
      if (!result.done) {
        if (!isKeepAlive(result.value)) deadline.tick(outputTokens(result.value));
        return see(result.value);
      }
      ended = true;
      if (!finished) return fail(new GatewayError("upstream_error", `${target} ended its stream without finishing`, { target }));
      this.#stats.success(target, performance.now() - startedAt);
      void close();
      return DONE;
    };
    const relay: ReadyStream<StreamEvent> = {
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
      // The events that came with the last one (one upstream read): watched as next() would, one tick for all
      // (with all their tokens; none when they are only keep-alives).
      takeReady(): StreamEvent[] | undefined {
        if (closed) return undefined;
        let ready: StreamEvent[] | undefined;
        if (given < firsts.length) {
          ready = firsts.slice(given);
          given = firsts.length;
        }
        const more = takeReady(iterator);
        if (more !== undefined) {
          let tokens = 0;
          let progress = false;
          for (const event of more) {
            if (isKeepAlive(event)) continue;
            progress = true;
            tokens += outputTokens(event);
          }
          if (progress) deadline.tick(tokens);
          ready = ready === undefined ? more : ready.concat(more);
        }
        if (ready !== undefined) for (const event of ready) watch(event);
        return ready;
      },
      async return(): Promise<IteratorResult<StreamEvent>> {
        await close();
        return DONE;
      },
    };
    return relay;
  }

  /** An attempt's usage, by the target that reported it: in /metrics, and told to the usage sink (the store's table). */
  #countUsage(target: string, usage: AttemptUsage): void {
    if (usage.inputTokens !== undefined) this.#metrics.tokens.inc({ target, direction: "input" }, usage.inputTokens);
    if (usage.outputTokens !== undefined) this.#metrics.tokens.inc({ target, direction: "output" }, usage.outputTokens);
    if (usage.answered || usage.inputTokens !== undefined || usage.outputTokens !== undefined) this.#usage?.(target, usage);
  }
}

/** An embedding request without the client's own body (EmbedRequest.native). */
function withoutNative(request: EmbedRequest): EmbedRequest {
  const { native: _native, ...rest } = request;
  return rest;
}
