import type { TokenCounter } from "../context/estimate-input-tokens.js";
import { fitConversation } from "../context/fit-conversation.js";
import type { ChatRequest } from "../core/index.js";
import type { Target } from "./catalog.js";

/**
 * Why a target cannot serve a request, known before calling it — or undefined when it may. The plan
 * skips such targets (saying why in x-tandem-degraded) rather than paying an attempt to hear it:
 * images for a model that reads text only, tools or JSON output for a model configured without them,
 * a conversation that does not fit the target's window even with its older turns left out. Asked of the target's capabilities, never of its kind.
 */
export function unsuitability(target: Target, request: ChatRequest, count: TokenCounter | undefined): string | undefined {
  const model = target.capabilities;
  if ((target.provider.capabilities?.vision === false || model?.vision === false) && hasImage(request)) {
    return "reads text only; the conversation has an image";
  }
  if (model?.tools === false && offersTools(request)) return "calls no tools; the request offers tools";
  if (model?.json === false && wantsJson(request)) return "has no JSON mode; the request asks for JSON output";
  const window = target.contextWindow;
  // `count` is there whenever some target's window is known.
  if (window !== undefined && count !== undefined) {
    // fitConversation leaves out what it can; when even the rest is over the window, nothing fits.
    const fit = fitConversation(request, window, count);
    if (fit.tokens > window) return `the conversation needs about ${fit.tokens} tokens; its window is ${window}`;
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
  return targets.every((t) => t.contextWindow !== undefined && fitConversation(request, t.contextWindow, count).dropped > 0);
}

/** Tools offered and not switched off (a `none` choice lets a model without tools answer). */
function offersTools(request: ChatRequest): boolean {
  return (request.tools?.length ?? 0) > 0 && request.toolChoice !== "none";
}

function wantsJson(request: ChatRequest): boolean {
  return request.responseFormat !== undefined && request.responseFormat.type !== "text";
}

function hasImage(request: ChatRequest): boolean {
  for (const m of request.messages) {
    if (m.role !== "system" && m.content.some((p) => p.type === "image")) return true;
  }
  return false;
}
