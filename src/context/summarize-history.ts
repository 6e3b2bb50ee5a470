import {
  type ChatRequest,
  type EarlierSummary,
  GatewayError,
  type Message,
  type StreamEvent,
  SUMMARY_LEAD,
  type SystemMessage,
  textOf,
  type Usage,
} from "../core/index.js";

/**
 * The room (in tokens) a summary takes out of a target's window, and the most the summarizer is
 * asked to write: an eighth of the window, 64..512 tokens.
 */
export function summaryBudget(contextWindow: number): number {
  return Math.max(64, Math.min(512, Math.floor(contextWindow / 8)));
}

const INSTRUCTIONS =
  "You summarize the earlier part of a conversation so that it can continue without it. Write a short, " +
  "factual summary: what the user asked and wants, what was decided, facts, names and numbers given, " +
  "tool calls made and their results, and what is still open. Write only the summary.";

/**
 * The request a summarizer is sent: the earlier summary (when a cut is cut again) and the turns left
 * out, as one transcript, so any model (and any wire) can answer it.
 */
export function summaryRequest(
  model: string,
  previous: string | undefined,
  dropped: readonly Message[],
  maxTokens: number,
): ChatRequest {
  let transcript = previous === undefined ? "" : `Summary so far:\n${previous}\n\n`;
  for (const message of dropped) transcript += `${line(message)}\n`;
  return {
    model,
    stream: false,
    maxTokens,
    temperature: 0,
    messages: [
      { role: "system", content: INSTRUCTIONS },
      { role: "user", content: [{ type: "text", text: `Conversation to summarize:\n\n${transcript}` }] },
    ],
  };
}

/** A summary made in pieces: the last piece's answer, and what the pieces could not take. */
export interface PiecewiseSummary<T> {
  answer: T;
  /** How many answers the summary took (1 when the whole cut fitted the summarizer's window). */
  pieces: number;
  /** The earlier answers' own results (usage, say), in order, for a caller that adds them up. */
  earlier: T[];
  /** Messages too long for the summarizer's window even alone: left out of the summary. */
  skipped: number;
}

/**
 * Summarizes `turns` (after an earlier summary, `previous`) with a summarizer whose window may not
 * hold them all: the whole cut is asked for first; when the summarizer says it does not fit its
 * window (context_length_exceeded), the turns are halved and summarized oldest half first, each
 * piece's summary carried into the next as the summary so far, halving again where a piece still
 * does not fit. An older message that does not fit even alone is left out of the summary (counted in
 * `skipped`); the newest one failing so is the summarizer's error (nothing newer could stand for it).
 */
export async function summarizeInPieces<T>(
  previous: string | undefined,
  turns: readonly Message[],
  ask: (previous: string | undefined, turns: readonly Message[]) => Promise<T>,
  textOf: (answer: T) => Promise<string>,
): Promise<PiecewiseSummary<T>> {
  const earlier: T[] = [];
  let pieces = 0;
  let skipped = 0;
  let summary = previous;
  const run = async (piece: readonly Message[], last: boolean): Promise<T | undefined> => {
    let answer: T;
    try {
      answer = await ask(summary, piece);
      pieces++;
    } catch (err) {
      if (!(err instanceof GatewayError) || err.code !== "context_length_exceeded") throw err;
      if (piece.length === 1) {
        if (last) throw err;
        skipped++;
        return undefined;
      }
      const half = Math.ceil(piece.length / 2);
      await run(piece.slice(0, half), false);
      return run(piece.slice(half), last);
    }
    if (last) return answer;
    earlier.push(answer);
    const text = await textOf(answer);
    if (text !== "") summary = text;
    return undefined;
  };
  const answer = (await run(turns, true)) as T;
  return { answer, pieces, earlier, skipped };
}

function line(message: Message): string {
  switch (message.role) {
    case "system":
      return `[system] ${message.content}`;
    case "user":
      return `[user] ${textOf(message.content)}`;
    case "assistant": {
      const calls = (message.toolCalls ?? []).map((c) => ` [calls ${c.name}(${c.arguments}) as ${c.id}]`).join("");
      return `[assistant] ${textOf(message.content)}${calls}`;
    }
    case "tool":
      return `[result of ${message.toolCallId}] ${textOf(message.content)}`;
  }
}

/** The text an earlier summary message carries, without its lead. */
export function summaryText(message: SystemMessage): string {
  return message.content.startsWith(SUMMARY_LEAD) ? message.content.slice(SUMMARY_LEAD.length) : message.content;
}

/**
 * A fitted request with the summary in place of the turns it left out: in the earlier summary's
 * place when there was one, else right after the leading system messages.
 */
export function withSummary(fitted: ChatRequest, previous: SystemMessage | undefined, text: string): ChatRequest {
  const summary: SystemMessage = { role: "system", content: SUMMARY_LEAD + text };
  const messages = [...fitted.messages];
  const at = previous === undefined ? -1 : messages.indexOf(previous);
  if (at >= 0) messages[at] = summary;
  else {
    let lead = 0;
    while (messages[lead]?.role === "system") lead++;
    messages.splice(lead, 0, summary);
  }
  return { ...fitted, messages };
}

/**
 * A request with a summary stored earlier in place of the messages it stands for: right after the
 * leading system messages, where those turns began. `composed` gives, for a message changed for the
 * target (an earlier image left out), the message the history composed, which the summary names.
 */
export function withEarlierSummary<R extends { messages: Message[] }>(
  request: R,
  earlier: EarlierSummary,
  composed?: ReadonlyMap<Message, Message>,
): R {
  const replaced = new Set(earlier.replaces);
  const messages = request.messages.filter((m) => !replaced.has(composed?.get(m) ?? m));
  let lead = 0;
  while (messages[lead]?.role === "system") lead++;
  messages.splice(lead, 0, earlier.message);
  return { ...request, messages };
}

/** The answer's text, read to its end, and the usage it reported (when it did). */
export async function collectText(events: AsyncIterable<StreamEvent>): Promise<{ text: string; usage?: Partial<Usage> }> {
  let text = "";
  let usage: Partial<Usage> | undefined;
  for await (const event of events) {
    if (event.type === "text-delta") text += event.text;
    else if (event.type === "usage") usage = event.usage;
  }
  return usage === undefined ? { text: text.trim() } : { text: text.trim(), usage };
}
