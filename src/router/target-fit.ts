import type { TokenCounter } from "../context/estimate-input-tokens.js";
import { fitConversation } from "../context/fit-conversation.js";
import type { ChatRequest } from "../core/index.js";
import type { Target } from "./catalog.js";

/**
 * Why a target cannot serve a request, known before calling it — or undefined when it may. The plan
 * skips such targets (saying why in x-tandem-degraded) rather than paying an attempt to hear it:
 * images for a model that reads text only, a conversation that does not fit the target's window even
 * with its older turns left out. Asked of the target's capabilities, never of its kind.
 */
export function unsuitability(target: Target, request: ChatRequest, count: TokenCounter): string | undefined {
  if (target.provider.capabilities?.vision === false && hasImage(request)) {
    return "reads text only; the conversation has an image";
  }
  const window = target.contextWindow;
  if (window !== undefined) {
    // fitConversation leaves out what it can; when even the rest is over the window, nothing fits.
    const fit = fitConversation(request, window, count);
    if (fit.tokens > window) return `the conversation needs about ${fit.tokens} tokens; its window is ${window}`;
  }
  return undefined;
}

function hasImage(request: ChatRequest): boolean {
  for (const m of request.messages) {
    if (m.role !== "system" && m.content.some((p) => p.type === "image")) return true;
  }
  return false;
}
