import { type ChatRequest, type Message, measureRequestText } from "../core/index.js";
import { countMessageTokens, countToolTokens, type TokenCounter } from "./estimate-input-tokens.js";
import { DEFAULT_MEDIA_RULES, MAX_IMAGE_TOKENS, type MediaRules, pdfPageCount } from "./media-tokens.js";

export interface FitResult {
  request: ChatRequest;
  /** How many messages were left out (0 when the conversation fitted as it was). */
  dropped: number;
  /** The estimated input tokens of the request as sent. */
  tokens: number;
  /**
   * Why no cut fits the window with room for the answer, for people (a refusal, a skipped target);
   * undefined when `request` fits. The request is then returned as it came (`dropped` 0).
   */
  unfit?: string;
}

/**
 * The answer a fit keeps room for, as the target is sent it. `maxTokens` is the output limit its
 * upstream is sent (undefined: none), which may be more than the client's own (Anthropic's default,
 * a thinking budget added, see ChatProvider.sentMaxTokens). `endsAtWindow`: the target stops an
 * answer at the end of its window rather than refusing a limit the window cannot hold (the embedded
 * engine): a limit no cut can make room for is then taken as none, as llama.cpp and Ollama take it,
 * and the answer runs to the window's end.
 */
export interface AnswerRoom {
  maxTokens?: number;
  endsAtWindow?: boolean;
}

/**
 * Fits a conversation into a model's context window, leaving room for the answer: system messages
 * and the newest turn always stay; older turns are dropped oldest first, an assistant's tool calls go
 * together with their results (never a result without its call, or a call without its results), and
 * what is kept still opens with a user turn.
 * When even that does not fit (the newest turn fills the window, or leaves less room than the output
 * limit sent to a target that refuses such a limit), the request is returned as it is, with the reason
 * in `unfit`: it is not sent to that target (see router/target-fit.ts and Attempts.chat). Images and
 * documents are counted as `media` says the target is given and prices them.
 */
export function fitConversation(
  request: ChatRequest,
  contextWindow: number,
  count: TokenCounter,
  room: AnswerRoom = { maxTokens: request.maxTokens },
  media: MediaRules = DEFAULT_MEDIA_RULES,
): FitResult {
  if (clearlyFits(request, answerBudget(room, contextWindow))) return { request, dropped: 0, tokens: Number.NaN };
  return fitCounted(
    request,
    contextWindow,
    (m) => countMessageTokens(m, count, media),
    3 + countToolTokens(request.tools ?? [], count),
    room,
  ).fit;
}

/** The room kept for an answer with no output limit (or one a window-ending target cannot keep): a quarter of the window, at most 1024. */
function defaultReserve(contextWindow: number): number {
  return Math.min(1024, Math.floor(contextWindow / 4));
}

/**
 * The tokens a conversation may take in a window with the output limit kept whole: a bound for the
 * cheap checks, which never cut (a conversation under it fits whatever the newest turn weighs).
 */
function answerBudget(room: AnswerRoom, contextWindow: number): number {
  return contextWindow - (room.maxTokens ?? defaultReserve(contextWindow));
}

/**
 * The room kept for the answer once the shortest conversation that can be sent (system messages and
 * the newest turn) is known to weigh `least`; undefined when no cut leaves the room the target needs.
 * An output limit the window can hold is kept whole. One it cannot: a target that refuses it (an
 * upstream that checks input + max_tokens against its window, as Anthropic and vLLM do) cannot be sent
 * the conversation; a target that ends the answer at its window's end is sent it with the room kept
 * as if no limit were given. Without a limit, the default room, or what is left of the window when
 * the newest turn takes more (the answer is then short, but there is one).
 */
function reserveFor(room: AnswerRoom, contextWindow: number, least: number): number | undefined {
  const free = contextWindow - least;
  if (free <= 0) return undefined;
  if (room.maxTokens !== undefined && room.maxTokens <= free) return room.maxTokens;
  if (room.maxTokens !== undefined && room.endsAtWindow !== true) return undefined;
  return Math.min(defaultReserve(contextWindow), free);
}

/** How many times a fit is counted again by the model and cut further before the model's own length error decides. */
const MODEL_COUNT_ROUNDS = 4;

/**
 * Fits a conversation by the target's own count of a whole request (a local model's tokenizer and
 * chat template, which can need far more tokens than the GPT tokenizer's estimate: a small
 * vocabulary, text that is not English). The estimate still weighs the messages against each other;
 * the model's count says how much they weigh in all. So the request is counted once, and only when
 * it may not fit; when it does not, the estimate is scaled by how far it was off, the conversation
 * fitted by the scaled estimate, and the fit counted again, scaled further while it is still over:
 * a few counts of one request, never one per message. When even the newest turn is over the window,
 * the request is returned as it is with the reason in `unfit` (as fitConversation's is).
 */
export async function fitConversationByModelCount(
  request: ChatRequest,
  contextWindow: number,
  estimate: TokenCounter,
  countRequest: (request: ChatRequest) => Promise<number>,
  room: AnswerRoom = { maxTokens: request.maxTokens },
): Promise<FitResult> {
  const budget = answerBudget(room, contextWindow);
  if (surelyFits(request, budget)) return { request, dropped: 0, tokens: Number.NaN };
  const whole = await countRequest(request);
  if (whole <= budget) return { request, dropped: 0, tokens: whole };
  // Each message estimated once; every round scales the same estimates.
  const estimates = new Map(request.messages.map((m) => [m, countMessageTokens(m, estimate)]));
  const fixed = 3 + countToolTokens(request.tools ?? [], estimate);
  const estimated = fixed + [...estimates.values()].reduce((n, t) => n + t, 0);
  let scale = whole / Math.max(1, estimated);
  let fit: FitResult = { request, dropped: 0, tokens: whole };
  for (let round = 0; round < MODEL_COUNT_ROUNDS; round++) {
    const factor = scale;
    const scaled = fitCounted(
      request,
      contextWindow,
      (m) => Math.ceil((estimates.get(m) ?? 0) * factor),
      Math.ceil(fixed * factor),
      room,
    );
    // Nothing to leave out: the whole fits the room kept (a limit taken as none), or not even the newest turn does.
    if (scaled.fit.dropped === 0) {
      return { request, dropped: 0, tokens: whole, ...(scaled.fit.unfit !== undefined && { unfit: scaled.fit.unfit }) };
    }
    const counted = await countRequest(scaled.fit.request);
    fit = { ...scaled.fit, tokens: counted };
    if (counted <= scaled.budget) return fit;
    // Still over: the kept messages weigh more on the model than scaled; scale by how far it was off again.
    scale *= counted / Math.max(1, scaled.fit.tokens);
  }
  // Still over after a few rounds: sent as cut so far, the model's own length error decides.
  return fit;
}

/**
 * fitConversation by each message's cost and the request's fixed cost (tools, the reply's priming),
 * without its cheap check (a model's scaled costs are none the check can bound); with the budget the
 * fit was made for (the window less the room kept for the answer).
 */
function fitCounted(
  request: ChatRequest,
  contextWindow: number,
  cost: (m: Message) => number,
  fixed: number,
  room: AnswerRoom,
): { fit: FitResult; budget: number } {
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
  const total = fixed + units.reduce((n, u) => n + u.tokens, 0);
  // The newest turn stays: the last user message and everything after it.
  let lastUser = units.length - 1;
  while (lastUser > 0 && !units[lastUser]?.messages.some((m) => m.role === "user")) lastUser--;
  for (let i = Math.max(0, lastUser); i < units.length; i++) (units[i] as { keep: boolean }).keep = true;

  let tokens = fixed + units.filter((u) => u.keep).reduce((n, u) => n + u.tokens, 0);
  const reserve = reserveFor(room, contextWindow, tokens);
  if (reserve === undefined) {
    const unfit =
      tokens >= contextWindow
        ? `the conversation needs about ${total} tokens (its newest turn alone about ${tokens}); its window is ${contextWindow}`
        : `its newest turn needs about ${tokens} tokens, which leaves less than the ${room.maxTokens} output tokens asked of its ${contextWindow}-token window`;
    return { fit: { request, dropped: 0, tokens: total, unfit }, budget: contextWindow };
  }
  const budget = contextWindow - reserve;
  if (total <= budget) return { fit: { request, dropped: 0, tokens: total }, budget };
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
  return { fit: { request: { ...request, messages: kept }, dropped: request.messages.length - kept.length, tokens }, budget };
}

/**
 * True when the conversation fits the budget by a bound on any model's tokens that costs no count:
 * a token is at least a byte of UTF-8 (a model without a piece for some text falls back to bytes),
 * which is at most 3 per UTF-16 unit, and a chat template adds some tokens to each message and to
 * the whole (generously: where its markers are no special tokens, they are spelled out). A short
 * conversation on a large window is not sent to the engine to be counted.
 */
function surelyFits(request: ChatRequest, budget: number): boolean {
  const { chars, images } = requestSize(request);
  return 3 * chars + images * 1024 + request.messages.length * 32 + 64 <= budget;
}

/**
 * True when the conversation is far below the budget by a cheap measure (about 4 characters a token;
 * images, and a PDF's pages, at the most an image costs), so the common case never pays for
 * tokenizing the whole history.
 */
function clearlyFits(request: ChatRequest, budget: number): boolean {
  const { chars, images } = requestSize(request);
  return chars / 4 + (images + pdfPages(request)) * MAX_IMAGE_TOKENS + request.messages.length * 4 < budget / 2;
}

/** The pages of the request's PDFs, each of which a target that reads PDFs is given as an image (media-tokens.ts). */
function pdfPages(request: ChatRequest): number {
  let pages = 0;
  for (const message of request.messages) {
    if (message.role === "system") continue;
    for (const part of message.content)
      if (part.type === "file" && part.mediaType === "application/pdf") pages += pdfPageCount(part.data);
  }
  return pages;
}

/** What the cheap bounds above weigh: the request's characters (its text, tool call names and tool definitions) and its images. */
function requestSize(request: ChatRequest): { chars: number; images: number } {
  const size = measureRequestText(request);
  return { chars: JSON.stringify(request.tools ?? []).length + size.text + size.toolCallNames, images: size.images };
}
