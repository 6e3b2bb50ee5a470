import type { TokenCounter } from "../context/estimate-input-tokens.js";
import { type AnswerRoom, fitConversation } from "../context/fit-conversation.js";
import type { MediaRules } from "../context/media-tokens.js";
import {
  askedWindow,
  type ChatRequest,
  type CompletionPrompt,
  GatewayError,
  hasOwnImage,
  lacksTurns,
  type NativeWire,
  withoutHistoryImages,
} from "../core/index.js";
import type { Target } from "./catalog.js";

/**
 * Why a target cannot serve a request, known before calling it — or undefined when it may. The plan
 * skips such targets (saying why in x-tandem-degraded) rather than paying an attempt to hear it:
 * images of the request's own for a model that reads text only (an earlier turn's is left out for
 * it), tools or JSON output for a model configured without them, a conversation that does not fit
 * the target's window even with its older turns left out. Asked of the target's capabilities, never
 * of its kind.
 */
export function unsuitability(target: Target, request: ChatRequest, count: TokenCounter | undefined): string | undefined {
  const crossing = wireOnlyFor(target, request);
  if (crossing !== undefined) return crossing;
  if (request.completion !== undefined) {
    const rawNeed = rawPromptNeeds(request.completion).find((need) => !need.can(target));
    if (rawNeed !== undefined) return rawNeed.unfit;
  }
  const turnless = turnlessFor(target, request);
  if (turnless !== undefined) return turnless;
  const model = target.capabilities;
  // An earlier turn's image is left out for such a target (asSentTo): only the request's own skips it.
  if (readsNoImages(target) && hasOwnImage(request.messages)) return "reads text only; the request has an image";
  if (model?.tools === false && offersTools(request)) return "calls no tools; the request offers tools";
  if (model?.json === false && wantsJson(request)) return "has no JSON mode; the request asks for JSON output";
  const window = windowFor(target, request);
  // `count` is there whenever some target's window is known.
  if (window !== undefined && count !== undefined) {
    // fitConversation leaves out what it can; when even the rest leaves no room for the answer, nothing fits.
    const fit = fitConversation(asSentTo(target, request), window, count, answerRoom(target, request), mediaRulesFor(target));
    if (fit.unfit !== undefined) return fit.unfit;
    // Without truncation the whole conversation must fit, with room for the answer.
    if (request.fitToWindow === false && fit.dropped > 0) {
      return `the whole conversation does not fit its ${window}-token window with room for the answer (truncation disabled)`;
    }
  }
  return undefined;
}

/**
 * Whether a request that may not be truncated fits no target of its plan: every target's window is
 * known and too small for the whole conversation. A target of unknown window may still take it.
 */
export function fitsNoWindow(targets: readonly Target[], request: ChatRequest, count: TokenCounter): boolean {
  if (request.fitToWindow !== false || targets.length === 0) return false;
  return targets.every((t) => {
    const window = windowFor(t, request);
    if (window === undefined) return false;
    const fit = fitConversation(asSentTo(t, request), window, count, answerRoom(t, request), mediaRulesFor(t));
    return fit.unfit !== undefined || fit.dropped > 0;
  });
}

/**
 * How a target is given images and PDFs, for counting them as its upstream does: by the wires its
 * provider speaks. Anthropic's Messages wire prices images by area; OpenAI's wires, and any other
 * (estimated as OpenAI's), by tiles. Both Anthropic's and OpenAI's wires are sent a PDF whole
 * (the providers' converters); any other target its text.
 */
export function mediaRulesFor(target: Target): MediaRules {
  const wires = target.provider.capabilities?.wires ?? [];
  const anthropic = wires.includes("anthropic-messages");
  const openai = wires.includes("openai-chat") || wires.includes("openai-responses");
  return { images: anthropic ? "anthropic" : "openai", documentsWhole: anthropic || openai };
}

/**
 * The answer a target's window must keep room for: the output limit its upstream is really sent
 * (ChatProvider.sentMaxTokens), and whether it ends an answer at its window's end instead of refusing
 * a limit the window cannot hold (ProviderCapabilities.endsAnswerAtWindow).
 */
export function answerRoom(target: Target, request: ChatRequest): AnswerRoom {
  const maxTokens = target.provider.sentMaxTokens?.(request) ?? request.maxTokens;
  return {
    ...(maxTokens !== undefined && { maxTokens }),
    ...(target.provider.capabilities?.endsAnswerAtWindow === true && { endsAtWindow: true }),
  };
}

/** Whether a target reads no images: the local engine, or a model configured with `vision: false`. */
export function readsNoImages(target: Target): boolean {
  return target.provider.capabilities?.vision === false || target.capabilities?.vision === false;
}

/**
 * The request as a target is sent it, as far as fitting it to a window goes: without its earlier
 * turns' images for a target that reads none (see Attempts.chat, which leaves them out and names them).
 */
function asSentTo(target: Target, request: ChatRequest): ChatRequest {
  if (!readsNoImages(target)) return request;
  const seen = withoutHistoryImages(request.messages);
  return seen.dropped === 0 ? request : { ...request, messages: seen.messages };
}

/**
 * The context window a target runs a request with: the one the request asks for (Ollama's
 * `num_ctx`, ChatRequest.contextSize) on a target that takes it, at most its model's trained context
 * where that is known (as the engine and Ollama load it), else the target's own, when known.
 */
export function windowFor(target: Target, request: ChatRequest): number | undefined {
  if (request.contextSize !== undefined && target.provider.capabilities?.requestedWindow === true) {
    return askedWindow(request.contextSize, target.trainedContext);
  }
  return target.contextWindow;
}

/**
 * Why a target on another wire than the client's cannot take what of the request only its own wire
 * carries (NativeRequest.wireOnly: `n` > 1, a custom or server tool, an opaque content block), or
 * undefined when it can.
 */
function wireOnlyFor(target: Target, request: ChatRequest): string | undefined {
  const native = request.native;
  const first = native?.wireOnly?.[0];
  if (native === undefined || first === undefined || takesOwnBody(target, native.wire, request)) return undefined;
  const more = native.wireOnly!.length > 1 ? ` (and ${native.wireOnly!.length - 1} more)` : "";
  return `speaks no ${native.wire}; ${first.what} ('${first.param}')${more} cannot cross to its wire`;
}

/** Whether a target can be sent a client's own body in this wire format (same-wire pass-through). */
export function speaksWire(target: Target, wire: NativeWire): boolean {
  return target.provider.capabilities?.wires?.includes(wire) === true;
}

/**
 * Whether a target is sent this request's own body, in the client's wire format: it speaks the wire,
 * and its model takes the body as it is (ChatProvider.takesOwnBody: OpenAI's gpt-5.2 and later refuse
 * a chat completions body with function tools beside an effort, which then goes in canonical form).
 */
export function takesOwnBody(target: Target, wire: NativeWire, request: ChatRequest): boolean {
  return speaksWire(target, wire) && target.provider.takesOwnBody?.(wire, request, target.upstreamModel) !== false;
}

/**
 * The error for a request with what only the client's wire carries (NativeRequest.wireOnly) when no
 * target of its plan speaks that wire: a 400 naming the field, rather than an answer without it.
 * `private`: the targets privacy took out of the plan (private data stays on this machine) and why,
 * so that one of those that does speak the wire is named rather than left a mystery.
 */
export function crossesNoWire(
  targets: readonly Target[],
  request: ChatRequest,
  kept?: { out: readonly Target[]; reason: string },
): GatewayError | undefined {
  const native = request.native;
  const first = native?.wireOnly?.[0];
  if (native === undefined || first === undefined || targets.length === 0) return undefined;
  if (targets.some((t) => takesOwnBody(t, native.wire, request))) return undefined;
  const wouldSpeak = kept?.out.filter((t) => takesOwnBody(t, native.wire, request)).map((t) => t.name) ?? [];
  const privately =
    kept && wouldSpeak.length > 0
      ? ` ${wouldSpeak.join(", ")} ${wouldSpeak.length === 1 ? "does" : "do"}, but this request is private (${kept.reason}) and private data stays on this machine: set the route's privacy or imagesArePrivate, or send 'x-tandem-sensitivity: public' if it may leave.`
      : "";
  return new GatewayError(
    "invalid_request",
    `Invalid value for '${first.param}': ${first.what} can be sent only to a target that speaks the client's ${native.wire} API as it is, and none of ${targets.map((t) => t.name).join(", ")} does.${privately}`,
    { param: first.param, retryable: false },
  );
}

/**
 * Why a target whose API needs a message the conversation lacks (ProviderCapabilities.strictTurns:
 * Anthropic's a user or assistant message, OpenAI's any message) cannot take it once its empty
 * messages are left out, or undefined when it can. A target sent the client's own body (same wire)
 * is sent it as it came: its upstream decides.
 */
function turnlessFor(target: Target, request: ChatRequest): string | undefined {
  const rules = target.provider.capabilities?.strictTurns;
  if (rules === undefined || !lacksTurns(request.messages, rules)) return undefined;
  if (request.native !== undefined && takesOwnBody(target, request.native.wire, request)) return undefined;
  return rules.needsTurn
    ? "needs a user or assistant message; the conversation has none with content"
    : "needs a message; the conversation has none with content";
}

/**
 * The error for a conversation no target of its plan can take (see turnlessFor): a 400 naming
 * `messages`, before any upstream is called, rather than an upstream's own 400 or a 503 listing skips.
 */
export function turnlessRefusal(targets: readonly Target[], request: ChatRequest): GatewayError | undefined {
  if (targets.length === 0 || !targets.every((t) => turnlessFor(t, request) !== undefined)) return undefined;
  const names = targets.map((t) => t.name).join(", ");
  const needsTurn = targets.some((t) => t.provider.capabilities?.strictTurns?.needsTurn === true);
  const message = needsTurn ? "user or assistant message" : "message";
  return new GatewayError(
    "invalid_request",
    `Invalid value for 'messages': the conversation has no ${message} with content (empty messages are left out), and ${names} need${targets.length === 1 ? "s" : ""} one.`,
    { param: "messages", retryable: false },
  );
}

/**
 * What a raw prompt (ChatRequest.completion) asks of a target beyond continuing text, each with the
 * capability that gives it, why a target without it is skipped, and the 400 (naming the client's
 * field) when no target of the plan has it: a suffix to fill in up to, the prompt's own token
 * logprobs, token ids that only the model's own vocabulary reads. Rather than an answer that drops
 * what was asked.
 */
interface RawPromptNeed {
  can: (target: Target) => boolean;
  unfit: string;
  refusal: (names: string) => GatewayError;
}

function rawPromptNeeds(completion: CompletionPrompt): RawPromptNeed[] {
  const needs: RawPromptNeed[] = [];
  if (completion.suffix !== undefined) {
    needs.push({
      can: (t) => t.provider.capabilities?.infill === true,
      unfit: "cannot fill in the middle; the request has a suffix",
      refusal: (names) =>
        new GatewayError(
          "invalid_request",
          `Invalid value for 'suffix': fill-in-the-middle needs a target that can insert (the embedded engine, an Ollama upstream), and none of ${names} can.`,
          { param: "suffix", retryable: false },
        ),
    });
  }
  if (completion.echo === "logprobs") {
    needs.push({
      can: (t) => t.provider.capabilities?.promptLogprobs === true,
      unfit: "cannot report the prompt's own token logprobs; the request echoes them (echo with logprobs)",
      refusal: (names) =>
        new GatewayError(
          "invalid_request",
          `Invalid value for 'echo': the prompt's own token logprobs (echo with logprobs) need a target that reports them (the embedded engine), and none of ${names} can; send echo or logprobs, not both.`,
          { param: "echo", retryable: false },
        ),
    });
  }
  if (completion.tokensOnly === true) {
    needs.push({
      can: (t) => t.provider.capabilities?.tokenPrompts === true,
      unfit: "reads token ids only as cl100k_base; the prompt's ids are none of its tokens",
      refusal: (names) =>
        new GatewayError(
          "invalid_request",
          `Invalid value for 'prompt': token ids must be tokens of cl100k_base (OpenAI's completions models' encoding) for ${names}; only the embedded engine reads ids of its model's own vocabulary.`,
          { param: "prompt", retryable: false },
        ),
    });
  }
  return needs;
}

/**
 * The error for a raw prompt that asks what no target of its plan can give (see rawPromptNeeds):
 * a suffix no target can insert, the prompt's own logprobs, ids no target reads.
 */
export function rawPromptRefusal(targets: readonly Target[], request: ChatRequest): GatewayError | undefined {
  if (targets.length === 0 || request.completion === undefined) return undefined;
  const names = targets.map((t) => t.name).join(", ");
  for (const need of rawPromptNeeds(request.completion)) if (!targets.some(need.can)) return need.refusal(names);
  return undefined;
}

/** Tools offered and not switched off (a `none` choice lets a model without tools answer). */
function offersTools(request: ChatRequest): boolean {
  return (request.tools?.length ?? 0) > 0 && request.toolChoice !== "none";
}

function wantsJson(request: ChatRequest): boolean {
  return request.responseFormat !== undefined && request.responseFormat.type !== "text";
}
