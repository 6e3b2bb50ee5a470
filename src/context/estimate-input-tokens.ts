import type { ChatRequest, Message, ToolDefinition } from "../core/index.js";
import { boundedRuns } from "./tokenizer-runs.js";

/** Per-message framing overhead, as OpenAI's cookbook counts it for chat models. */
const TOKENS_PER_MESSAGE = 3;
/** A flat allowance per image: the cost of a low-detail image at OpenAI; real costs vary by size. */
const TOKENS_PER_IMAGE = 85;
/** What a file's name and the lines around its text add (`<file name="…">`…`</file>`). */
const TOKENS_PER_FILE_NAME = 10;

export type TokenCounter = (text: string) => number;
let counter: Promise<TokenCounter> | undefined;

/**
 * Loads the tokenizer on first use, so servers that never count tokens never pay for its tables. A
 * text is counted in pieces without long runs (boundedRuns): the tokenizer is quadratic in a run it
 * cannot split, and one client's 400,000 "x" would hold every other client for minutes.
 */
export function loadTokenCounter(): Promise<TokenCounter> {
  counter ??= import("gpt-tokenizer").then(({ countTokens }) => (text: string) => {
    const pieces = boundedRuns(text);
    return pieces.length === 1 ? countTokens(text) : pieces.reduce((sum, piece) => sum + countTokens(piece), 0);
  });
  return counter;
}

export function countMessageTokens(message: Message, count: TokenCounter): number {
  let total = TOKENS_PER_MESSAGE;
  if (message.role === "system") return total + count(message.content);
  for (const part of message.content) {
    if (part.type === "text") total += count(part.text);
    // A file with text costs at least its text (what a target that reads text is given); one without, an image's allowance.
    else if (part.type === "file" && part.text !== undefined) total += count(part.text) + TOKENS_PER_FILE_NAME;
    else total += TOKENS_PER_IMAGE;
  }
  if (message.role === "assistant") {
    for (const call of message.toolCalls ?? []) total += count(call.name) + count(call.arguments) + TOKENS_PER_MESSAGE;
  }
  return total;
}

export function countToolTokens(tools: readonly ToolDefinition[], count: TokenCounter): number {
  let total = 0;
  for (const tool of tools) {
    total += count(tool.name) + count(tool.description ?? "") + count(JSON.stringify(tool.parameters)) + TOKENS_PER_MESSAGE;
  }
  return total;
}

/**
 * An estimate of the input tokens of a request, with the o200k tokenizer (GPT-4o family). Other
 * models' tokenizers differ by some percent; this is what count_tokens answers when the target's
 * upstream cannot count for us.
 */
export async function estimateInputTokens(request: ChatRequest): Promise<number> {
  const count = await loadTokenCounter();
  let total = 3; // every reply is primed with a few tokens
  for (const message of request.messages) total += countMessageTokens(message, count);
  return total + countToolTokens(request.tools ?? [], count);
}
