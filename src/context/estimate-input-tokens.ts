import type { ChatRequest, Message, ToolDefinition } from "../core/index.js";
import { DEFAULT_MEDIA_RULES, documentPageTokens, imageTokens, type MediaRules, sentWhole } from "./media-tokens.js";
import { boundedRuns } from "./tokenizer-runs.js";

/** Per-message framing overhead, as OpenAI's cookbook counts it for chat models. */
const TOKENS_PER_MESSAGE = 3;
/**
 * What a file's name and the lines around its text add (`<file name="…">`…`</file>`, fileAsText), as
 * a constant: the text is counted alone, so a large one counted beforehand (count-in-slices.ts) is found.
 */
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

/**
 * A message's tokens: its text by the tokenizer, an image as the target's vendor prices it (by its
 * size, see media-tokens.ts), a file as the target is sent it: a PDF sent whole as its text and an
 * image of each page, as Anthropic and OpenAI read one; any other file, or a PDF for a target that
 * reads text, as the text it is given in its place (nothing when it has none: nothing is sent).
 */
export function countMessageTokens(message: Message, count: TokenCounter, media: MediaRules = DEFAULT_MEDIA_RULES): number {
  let total = TOKENS_PER_MESSAGE;
  if (message.role === "system") return total + count(message.content);
  for (const part of message.content) {
    if (part.type === "text") total += count(part.text);
    else if (part.type === "image") total += imageTokens(part, media);
    else if (sentWhole(part, media)) total += (part.text === undefined ? 0 : count(part.text)) + documentPageTokens(part, media);
    else if (part.text !== undefined) total += count(part.text) + TOKENS_PER_FILE_NAME;
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
 * An estimate of the input tokens of a request, with the o200k tokenizer (GPT-4o family), images and
 * documents as `media` says the target prices them. Other models' tokenizers differ by some percent;
 * this is what count_tokens answers when the target's upstream cannot count for us.
 */
export async function estimateInputTokens(request: ChatRequest, media: MediaRules = DEFAULT_MEDIA_RULES): Promise<number> {
  const count = await loadTokenCounter();
  let total = 3; // every reply is primed with a few tokens
  for (const message of request.messages) total += countMessageTokens(message, count, media);
  return total + countToolTokens(request.tools ?? [], count);
}
