import { type ChatRequest, type Message, measureRequestText } from "../core/index.js";
import { countMessageTokens, countToolTokens, type TokenCounter } from "./estimate-input-tokens.js";

export interface FitResult {
  request: ChatRequest;
  /** How many messages were left out (0 when the conversation fitted as it was). */
  dropped: number;
  /** The estimated input tokens of the request as sent. */
  tokens: number;
}

/**
 * Fits a conversation into a model's context window, leaving room for the answer: system messages
 * and the newest turn always stay; older turns are dropped oldest first, an assistant's tool calls go
 * together with their results (never a result without its call, or a call without its results), and
 * what is kept still opens with a user turn.
 * When even that does not fit, the request is returned as it is, and the upstream's own length error
 * decides (the router then moves on to a larger window).
 */
export function fitConversation(request: ChatRequest, contextWindow: number, count: TokenCounter): FitResult {
  const reserve = request.maxTokens ?? Math.min(1024, Math.floor(contextWindow / 4));
  const budget = contextWindow - reserve;
  if (clearlyFits(request, budget)) return { request, dropped: 0, tokens: Number.NaN };
  const cost = (m: Message) => countMessageTokens(m, count);
  const fixed = 3 + countToolTokens(request.tools ?? [], count);
  const total = fixed + request.messages.reduce((n, m) => n + cost(m), 0);
  if (total <= budget) return { request, dropped: 0, tokens: total };

  // Units that stand or fall together: a message, or an assistant's tool calls with their results.
  const units: { messages: Message[]; tokens: number; keep: boolean }[] = [];
  for (const message of request.messages) {
    const last = units.at(-1);
    if (message.role === "tool" && last && last.messages.some((m) => m.role === "assistant" && (m.toolCalls?.length ?? 0) > 0)) {
      last.messages.push(message);
      last.tokens += cost(message);
      continue;
    }
    units.push({ messages: [message], tokens: cost(message), keep: message.role === "system" });
  }
  // The newest turn stays: the last user message and everything after it.
  let lastUser = units.length - 1;
  while (lastUser > 0 && !units[lastUser]?.messages.some((m) => m.role === "user")) lastUser--;
  for (let i = Math.max(0, lastUser); i < units.length; i++) (units[i] as { keep: boolean }).keep = true;

  let tokens = fixed + units.filter((u) => u.keep).reduce((n, u) => n + u.tokens, 0);
  if (tokens > budget) return { request, dropped: 0, tokens: total };
  // Add back the newest droppable units while they fit.
  for (let i = units.length - 1; i >= 0; i--) {
    const unit = units[i] as (typeof units)[number];
    if (unit.keep) continue;
    if (tokens + unit.tokens > budget) break;
    unit.keep = true;
    tokens += unit.tokens;
  }
  // The history must still open with a user turn (Anthropic requires it; every model expects it).
  for (const unit of units) {
    if (!unit.keep || unit.messages[0]?.role === "system") continue;
    if (unit.messages[0]?.role === "user") break;
    unit.keep = false;
    tokens -= unit.tokens;
  }
  const kept = units.filter((u) => u.keep).flatMap((u) => u.messages);
  return { request: { ...request, messages: kept }, dropped: request.messages.length - kept.length, tokens };
}

/**
 * True when the conversation is far below the budget by a cheap measure (about 4 characters a token;
 * images at their flat allowance), so the common case never pays for tokenizing the whole history.
 */
function clearlyFits(request: ChatRequest, budget: number): boolean {
  const size = measureRequestText(request);
  const chars = JSON.stringify(request.tools ?? []).length + size.text + size.toolCallNames;
  return chars / 4 + size.images * 85 + request.messages.length * 4 < budget / 2;
}
