import type { CompletionPrompt, RequestContext, ResponseMeta } from "../core/index.js";
import {
  answerTooDeepError,
  type ChatRequest,
  fromBatches,
  GatewayError,
  MAX_ANSWER_DEPTH,
  nestsDeeperThan,
  noteErrorMeta,
  prepended,
  type ReadyStream,
  readsOf,
  type StreamEvent,
  type Usage,
} from "../core/index.js";
import { answerLimitError } from "../providers/http/answer-limits.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { TargetStats } from "../telemetry/target-stats.js";
import type { Attempts } from "./attempt.js";
import { describeAttempts, type FailedAttempt, noAnswerError } from "./attempt-log.js";
import type { AttemptLoop } from "./attempt-loop.js";
import type { Target } from "./catalog.js";
import { type Plan, streamsUpstream } from "./plan.js";
import type { Privacy, PrivacyGuard } from "./privacy-guard.js";
import { QualityWatch } from "./quality-check.js";
import { failoverDecision } from "./retry-policy.js";
import { TokensGiven } from "./tokens-given.js";

/** What the next model is told when it has to finish an answer another model started. */
export const CONTINUE_INSTRUCTION =
  "Your previous answer was cut off. Continue it exactly where it stopped, without repeating any of it and without comment.";

/**
 * The request that lets another target continue a broken answer: the conversation, the partial
 * answer as the assistant's turn, and a short instruction to go on from there. (Anthropic could take
 * the partial answer as a prefill instead; one form keeps every provider on the same footing.) A raw
 * prompt (CompletionPrompt) is simply longer by the partial answer, its suffix the same: a target
 * that continues text goes on from there with no instruction to read.
 */
export function continuationRequest(request: ChatRequest, partial: string): ChatRequest {
  const completion = request.completion;
  if (partial === "") {
    // Nothing to go on from but an echoed prompt, which the client has already.
    return completion?.echo === undefined ? request : { ...request, completion: unechoed(completion) };
  }
  return {
    ...request,
    ...(completion !== undefined && { completion: continuedPrompt(completion, partial) }),
    messages: [
      ...request.messages,
      { role: "assistant", content: [{ type: "text", text: partial }] },
      { role: "user", content: [{ type: "text", text: CONTINUE_INSTRUCTION }] },
    ],
  };
}

/**
 * A raw prompt longer by a partial answer: its token ids (read by the model's own vocabulary) are
 * followed by the partial text, and it is not echoed again (the client has its echo already).
 */
function continuedPrompt(completion: CompletionPrompt, partial: string): CompletionPrompt {
  const continued: CompletionPrompt = { ...unechoed(completion), prompt: completion.prompt + partial };
  if (completion.tokens !== undefined) continued.tokensThen = (completion.tokensThen ?? "") + partial;
  return continued;
}

/** A raw prompt not to be echoed again (the client has its echo from the first target). */
function unechoed(completion: CompletionPrompt): CompletionPrompt {
  const { echo: _echoed, ...rest } = completion;
  return rest;
}

/**
 * The input side of a usage: the prompt's tokens and the prompt-cache counters that are part of them
 * (Usage's cachedInputTokens and cacheWriteInputTokens count within inputTokens).
 */
export type InputUsage = Pick<Partial<Usage>, "inputTokens" | "cachedInputTokens" | "cacheWriteInputTokens">;

/** The input side of a usage update merged into what is known so far: later values win per field, as mergeUsage. */
function mergeInputUsage(into: InputUsage, update: Partial<Usage>): void {
  if (update.inputTokens !== undefined) into.inputTokens = update.inputTokens;
  if (update.cachedInputTokens !== undefined) into.cachedInputTokens = update.cachedInputTokens;
  if (update.cacheWriteInputTokens !== undefined) into.cacheWriteInputTokens = update.cacheWriteInputTokens;
}

/**
 * Usage of a continued answer: the original input, and the output of both parts. The input is the
 * first target's, with its own prompt-cache counters and none of the continuation's: those were of
 * another, longer prompt, and a client reading one prompt's input beside another's cache counters
 * counts them wrong (Anthropic's input_tokens is the input less both). When the first target never
 * said its input (it broke before its usage, as OpenAI reports usage last), the continuation's input
 * stands, with its own cache counters.
 */
export function continuedUsage(usage: Partial<Usage>, input: InputUsage, outputBefore: number): StreamEvent {
  const { outputTokens, inputTokens, cachedInputTokens, cacheWriteInputTokens, ...rest } = usage;
  const inputSide: InputUsage = {};
  mergeInputUsage(inputSide, input.inputTokens === undefined ? { inputTokens, cachedInputTokens, cacheWriteInputTokens } : input);
  return {
    type: "usage",
    usage: {
      ...rest,
      ...inputSide,
      ...(outputTokens !== undefined && { outputTokens: outputTokens + outputBefore }),
    },
  };
}

/** The events of the model's reasoning (see core's StreamEvent). */
const REASONING_EVENTS: ReadonlySet<StreamEvent["type"]> = new Set([
  "reasoning-delta",
  "reasoning-signature",
  "reasoning-redacted",
  "reasoning-encrypted",
]);

/**
 * Whether checked events hold some of the answer the client sees: anything but the start, the
 * upstream's frames and usage, and reasoning when the client is not shown it (ChatRequest.reasoningShown).
 */
function isOutput(events: readonly StreamEvent[], reasoningShown: boolean): boolean {
  return events.some(
    (e) => e.type !== "start" && e.type !== "frame" && e.type !== "usage" && (reasoningShown || !REASONING_EVENTS.has(e.type)),
  );
}

export interface ContinuationParts {
  loop: AttemptLoop;
  attempts: Attempts;
  metrics: Metrics;
  stats: TargetStats;
  /** Whether a partial answer may be carried to a cloud target redacted (PrivacyGuard.unredactable). */
  guard: Pick<PrivacyGuard, "unredactable">;
  /** The largest answer kept, in characters of text and tool-call arguments (limits.maxAnswerBytes). */
  maxAnswerBytes: number;
}

/** What Continuation.relay is given: the answer that started, and what a continuation needs to go on elsewhere. */
type RelayArgs = [
  plan: Plan,
  request: ChatRequest,
  context: RequestContext,
  meta: ResponseMeta,
  first: AsyncIterable<StreamEvent>,
  tried: Set<string>,
  privacy: Privacy | undefined,
  /** Why a target cannot serve this request (the plan's check): a continuation skips such targets too. */
  unsuitable?: (target: Target) => string | undefined,
  /** The attempts that failed before this answer started (LoopOutcome's `earlier`). */
  earlier?: readonly FailedAttempt[],
  /**
   * The request's deadline (LoopOutcome's `deadlineAt`): going on elsewhere has only the time left of
   * it, never a new `totalMs` of its own. Default: a continuation's attempts start a new one.
   */
  deadlineAt?: number,
];

/** The relay of an answer that has started: quality checks, limits, and going on elsewhere when it breaks. */
export class Continuation {
  readonly #loop: AttemptLoop;
  readonly #attempts: Attempts;
  readonly #metrics: Metrics;
  readonly #stats: TargetStats;
  readonly #maxAnswerBytes: number;
  readonly #guard: ContinuationParts["guard"];

  constructor(parts: ContinuationParts) {
    this.#loop = parts.loop;
    this.#attempts = parts.attempts;
    this.#metrics = parts.metrics;
    this.#stats = parts.stats;
    this.#maxAnswerBytes = parts.maxAnswerBytes;
    this.#guard = parts.guard;
  }

  /**
   * Relays an answer and watches its quality; when it breaks or fails a check after it has started,
   * finishes it on the next target that can answer. Resolves once the answer's first output (text,
   * reasoning, a checked tool call, the finish) has passed its checks, or rejects with the error that
   * leaves none: until then nothing is committed (a dialect writes its status and headers when this
   * resolves), so a first answer that fails before any output (an empty one, a broken first call) is
   * failed over as before the first byte, the next target answering as if it had been the first (its
   * name in the meta, no seam), and when none can, the client gets the error's own status (a 503 with
   * its Retry-After, say) rather than a 200 with an error in it. A streaming client gets one stream: the next
   * target is given the text so far and asked to go on, its events follow, and a `switch` event marks
   * the seam, and the meta says the answer is degraded (a mid-stream switch). A client that did not
   * stream has seen nothing yet, so the next target answers afresh (`switch` with `restart`): a
   * failover, which the meta calls degraded when a lower tier answered, as before the first byte.
   * Tool calls are held back until their arguments check out, so no half or broken call reaches a
   * client; once a call
   * has been passed on, a later failure ends the stream with the error instead. When no target is
   * left to go on with, the error is the one a client gets when no target answered before the
   * answer started (noAnswerError), listing every attempt since the request began: a client that
   * did not stream gets it as its answer, a streaming one in-band.
   */
  async relay(...args: RelayArgs): Promise<ReadyStream<StreamEvent>> {
    // The events of one upstream read are checked together and passed on as one batch (a reader takes
    // them with takeReady), so an event costs no promise of its own here.
    const batches = this.#batches(...args);
    const first = await batches.next();
    return fromBatches(prepended(first, batches));
  }

  async *#batches(
    ...[plan, request, context, meta, first, tried, privacy, unsuitable, earlier = [], deadlineAt]: RelayArgs
  ): AsyncGenerator<StreamEvent[]> {
    const quality = plan.policy.quality;
    const restart = !request.stream;
    const reasoningShown = request.reasoningShown !== false;
    let current = first;
    let target = meta.target;
    let text = "";
    // The model refused (text marked `refusal`): its answer is the refusal, which no text check fails.
    let refused = false;
    let callsSent = 0;
    let switched = false;
    // Whether the reader has been given any of the answer (more than a start, frames or usage): until
    // then everything is held, and a failure is one before the answer began.
    let started = false;
    // The first target's input and its prompt-cache counters, as far as it reported them.
    const input: InputUsage = {};
    // Output before the target answering now: the broken upstreams never reported usage, so what they
    // gave is counted (see TokensGiven), everything before the latest switch.
    let outputBefore = 0;
    // The output tokens of the answer so far, whatever target gave them: a continuation has only what
    // is left of the client's max_tokens.
    const given = new TokensGiven();
    // Characters of text and tool-call arguments this answer holds (the text so far, held calls, and
    // what a client that did not stream is gathering): past the limit the answer fails, so neither
    // the router nor the client's response holds more.
    let size = 0;
    let oversize = false;
    const maxAnswer = this.#maxAnswerBytes;
    /**
     * Every attempt that failed so far: before the answer started, those that broke off mid-answer,
     * and those a continuation tried first. When no target is left, the error lists them all.
     */
    const failures: FailedAttempt[] = [...earlier];
    /** The index of a target's tier in the plan (0: the first). */
    const tierOf = (name: string): number => plan.tiers.findIndex((t) => t.some((x) => x.name === name));
    // An answer a lower tier gave is counted once in tandem_degraded_answers_total, however many
    // failovers it took: here, where the answer is given, rather than by each attempt loop's run.
    let lowerTierCounted = false;
    const countLowerTier = (): void => {
      if (lowerTierCounted) return;
      lowerTierCounted = true;
      this.#metrics.degraded.inc({ route: plan.route ?? "", reason: "lower_tier" });
    };
    if (tierOf(target) > 0) countLowerTier();
    for (;;) {
      const since = performance.now();
      const watch = new QualityWatch(quality, request.responseFormat, target);
      const held = new Map<number, { events: StreamEvent[]; name: string; args: string }>();
      // The upstream's own frames while a call is held: they carry the call too.
      let heldFrames: StreamEvent[] = [];
      // What passes on from the events read so far (checked, in order); a failure passes on what came before it first.
      let out: StreamEvent[] = [];
      // A call whose arguments failed their check, held until the finish says whether a token limit cut it.
      let cut: { check: string; error: GatewayError } | undefined;
      /** Counts characters the answer holds; past the limit the answer fails. */
      const grow = (characters: number): void => {
        size += characters;
        if (size > maxAnswer) {
          oversize = true;
          throw answerLimitError(target, "maxAnswerBytes", maxAnswer);
        }
      };
      /** Checks one event and passes it on, holds it, or throws the failure it shows. */
      const take = (event: StreamEvent): void => {
        switch (event.type) {
          case "start":
            if (switched) return;
            break;
          case "frame":
            // A client that did not stream is sent the upstream's own frames put together (the
            // same-wire path), so the dialect holds every one: they count, or frames heavy with
            // other fields (logprobs, anything) and light on text would be gathered without bound.
            // A whole answer's one frame was held to the limit as it was read.
            if (restart && !event.whole) {
              grow(event.data.length);
              // Put together, they are written out again, which a field nested thousands of levels
              // deep would overflow: the upstream's failure, while the next target can still answer
              // afresh (a streaming client is sent each frame as it came, so nothing is rewritten).
              if (nestsDeeperThan(event.data, MAX_ANSWER_DEPTH)) throw answerTooDeepError(target);
            }
            if (held.size === 0) break;
            heldFrames.push(event);
            return;
          case "text-delta": {
            grow(event.text.length);
            if (event.refusal) refused = true;
            else text += event.text;
            given.add(event);
            const bad = watch.onText(event.text);
            if (bad) throw this.#qualityFailure(target, bad);
            break;
          }
          case "reasoning-delta":
            given.add(event);
            break;
          case "tool-call-start":
            if (!quality.toolArguments) break;
            held.set(event.index, { events: [event], name: event.name, args: "" });
            return;
          case "tool-call-delta": {
            grow(event.argumentsDelta.length);
            const call = held.get(event.index);
            if (!call) break;
            call.events.push(event);
            call.args += event.argumentsDelta;
            return;
          }
          case "tool-call-end": {
            const call = held.get(event.index);
            if (call) {
              const bad = watch.onToolCall(call.name, call.args);
              if (bad) {
                // Arguments cut off by the client's token limit are what the client asked for: the
                // finish says which it is. Until then the call stays held.
                call.events.push(event);
                cut ??= bad;
                return;
              }
              held.delete(event.index);
              for (const e of call.events) out.push(e);
              if (held.size === 0 && heldFrames.length > 0) {
                for (const e of heldFrames) out.push(e);
                heldFrames = [];
              }
            }
            callsSent++;
            break;
          }
          case "usage":
            if (!switched) {
              mergeInputUsage(input, event.usage);
              break;
            }
            // Answered afresh: the new target's own counts. Gone on from the text so far: the input
            // was the first target's, and the output both targets'.
            if (restart) break;
            out.push(continuedUsage(event.usage, input, outputBefore));
            return;
          case "finish": {
            if (cut) {
              if (event.reason !== "length" && event.reason !== "content_filter") throw this.#qualityFailure(target, cut);
              // Truncated, as the client's limit made it: the held calls go on as they came, broken arguments and all.
              for (const index of [...held.keys()].sort((a, b) => a - b))
                for (const e of held.get(index)?.events ?? []) out.push(e);
              callsSent += held.size;
              held.clear();
              for (const e of heldFrames) out.push(e);
              heldFrames = [];
              cut = undefined;
            }
            const bad = watch.onFinish(text, callsSent + held.size, event.reason, refused, event.stopSequence, event.raw);
            if (bad) throw this.#qualityFailure(target, bad);
            break;
          }
        }
        out.push(event);
      };
      try {
        // A read's events at a time; leaving early (a failed check, or the reader left) closes the stream, as for-await does.
        for await (const read of readsOf(current)) {
          for (const event of read) take(event);
          if (!started) started = isOutput(out, reasoningShown);
          if (started && out.length > 0) {
            const batch = out;
            out = [];
            yield batch;
          }
        }
        // An answer that ended without a finish never said its broken call was cut by a limit.
        if (cut) throw this.#qualityFailure(target, cut);
        if (out.length > 0) yield out;
        return;
      } catch (err) {
        // What passed its checks before the failure reaches the reader before anything else happens;
        // before the answer began, what was held (a start, frames) goes with the target that failed.
        if (!started) started = isOutput(out, reasoningShown);
        if (started && out.length > 0) {
          const batch = out;
          out = [];
          yield batch;
        }
        out = [];
        // Nothing of the answer was given: the next target answers as if it were the first.
        const fresh = restart || !started;
        const error = GatewayError.from(err);
        // What the client is told with the error (x-tandem-route, -target, -attempts): every attempt so far.
        const noted = (e: GatewayError, attempts = meta.attempts, last = target) =>
          noteErrorMeta(e, { route: plan.route, target: last, attempts });
        const decision = failoverDecision(error);
        if (decision === "canceled" || decision === "stop" || (callsSent > 0 && !restart)) throw noted(error);
        // A streamed answer that grew past the limit is not handed to another target to go on with.
        if (oversize && !restart) throw noted(error);
        // Going on from the text so far rebuilds the request in canonical form, which cannot say what
        // only the client's wire carries (NativeRequest.wireOnly: several choices, a server tool...).
        if (!fresh && (request.native?.wireOnly?.length ?? 0) > 0) throw noted(error);
        // The text so far was written after the request was classified: when it holds a value the
        // redaction has no placeholder for (a local model's other spelling of one), it goes on only on
        // this machine, as a history's summary does (it would leave as it is).
        const localOnly = !restart && text !== "" && this.#guard.unredactable(text, privacy);
        const rest: Plan = {
          ...plan,
          unresolved: [],
          // Neither a target already tried nor one the plan found unable to serve this request (a
          // continuation has a failure to report already: it does not try the unsuitable anyway).
          tiers: plan.tiers
            .map((tier) => tier.filter((t) => !tried.has(t.name) && unsuitable?.(t) === undefined && (t.local || !localOnly)))
            .filter((tier) => tier.length > 0),
        };
        const broke: FailedAttempt = { target, code: error.code, message: error.message, ms: performance.now() - since };
        // The client's max_tokens bounds the whole answer it gets: a continuation is given what is left
        // of it, and with nothing left the answer ends here, cut by that limit as it would have been
        // (never a target asked for a token past it, nor for none, which upstreams refuse). No frame of
        // the upstream's says so: on the same-wire path the dialect renders this finish (`unframed`).
        const givenSoFar = fresh ? 0 : await given.count();
        const tokensLeft = fresh || request.maxTokens === undefined ? undefined : request.maxTokens - givenSoFar;
        if (tokensLeft !== undefined && tokensLeft <= 0) {
          failures.push(broke);
          // Its usage, which the broken upstream never sent: its input as far as it said, the output counted.
          yield [
            { type: "usage", usage: { ...input, outputTokens: givenSoFar } },
            { type: "finish", reason: "length", unframed: true },
          ];
          return;
        }
        if (!fresh) outputBefore = givenSoFar;
        // Nothing left to go on with: what the client is told when no target answered, as before the
        // answer started (a 503 or 504 listing every attempt; a lone target's own error about the request).
        if (rest.tiers.length === 0) {
          throw noted(noAnswerError(plan.name, { failed: [...failures, broke], deadlinePassed: false, lastError: error }));
        }
        const next = await this.#loop.run(
          rest,
          context,
          (t, timeouts, breaker, signal) =>
            this.#attempts.chat(
              t,
              // Going on from the text so far is a new conversation: the client's own body no longer says it.
              fresh
                ? request
                : {
                    ...continuationRequest(request, text),
                    native: undefined,
                    ...(tokensLeft !== undefined && { maxTokens: tokensLeft }),
                  },
              { ...context, signal },
              timeouts,
              breaker,
              privacy,
              streamsUpstream(plan, request),
            ),
          tried,
          undefined,
          // Within what is left of the request's time: with none left, no other target is asked.
          deadlineAt,
        );
        if (!("value" in next)) {
          // Every attempt, as DESIGN.md promises: in the order they failed.
          throw noted(
            noAnswerError(plan.name, {
              failed: [...failures, broke, ...next.failed],
              deadlinePassed: next.deadlinePassed,
              lastError: next.lastError ?? error,
            }),
            meta.attempts + (next.attempts ?? next.failed.length),
            next.failed.at(-1)?.target ?? target,
          );
        }
        const { events: nextEvents, fitted } = next.value;
        // What the new target was not sent: its attempt names it (for a restart, from the client's
        // own request); a continuation request is canonical, so also whatever the client's wire has
        // that the canonical form lacks.
        const warnings = fresh
          ? next.value.warnings
          : [...new Set([...(request.native?.lost() ?? []), ...(next.value.warnings ?? [])])];
        if (fresh) {
          // The whole answer is the new target's: its name, its wire, its warnings.
          meta.target = next.meta.target;
          if (next.value.native) meta.native = true;
          else delete meta.native;
          if (warnings?.length) meta.warnings = warnings;
          else delete meta.warnings;
        }
        meta.attempts += next.meta.attempts;
        if (!fresh) {
          // Gone on from the text so far, in the stream the client is reading: a mid-stream switch.
          this.#metrics.midStreamSwitches.inc({ route: plan.route ?? "", code: error.code });
          if (!switched) this.#metrics.degraded.inc({ route: plan.route ?? "", reason: "mid_stream_switch" });
          meta.degraded = `switched mid-stream from ${meta.target} to ${next.meta.target} after ${target} failed (${error.code})${fitted ? `; ${fitted}` : ""}`;
        } else {
          // The next target answers the whole request afresh: a failover, as the attempt loop counts
          // and says one before the first byte (a client that did not stream has seen nothing yet,
          // whatever the broken target had given): degraded when a lower tier answers, with every
          // failure above it; said as answered afresh when the broken answer had begun.
          this.#metrics.failovers.inc({ route: plan.route ?? "", code: error.code });
          const tier = tierOf(next.meta.target);
          if (tier > 0) countLowerTier();
          const lower =
            tier === 0
              ? undefined
              : started
                ? `answered afresh on ${next.meta.target} after ${target} failed (${error.code})`
                : `tier ${tier + 1} answered; ${describeAttempts([...failures, broke, ...next.earlier])}`;
          meta.degraded = lower && fitted ? `${lower}; ${fitted}` : (lower ?? fitted);
        }
        if (started) {
          // The reader has some of the broken answer: told where the next target's begins (with
          // `restart`, to drop what it gathered).
          yield [
            {
              type: "switch",
              from: target,
              to: next.meta.target,
              reason: error.code,
              ...(restart && { restart: true }),
              ...(warnings?.length && { warnings }),
            },
          ];
          switched = true;
        }
        if (fresh) {
          text = "";
          given.clear();
          refused = false;
          callsSent = 0;
          size = 0;
        }
        oversize = false;
        failures.push(broke, ...next.earlier);
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
}
