import type { ChatRequest } from "../core/index.js";

/** Per-message framing overhead, as OpenAI's cookbook counts it for chat models. */
const TOKENS_PER_MESSAGE = 3;
/** A flat allowance per image: the cost of a low-detail image at OpenAI; real costs vary by size. */
const TOKENS_PER_IMAGE = 85;

type CountTokens = (text: string) => number;
let counter: Promise<CountTokens> | undefined;

/** Loads the tokenizer on first use, so servers that never count tokens never pay for its tables. */
function loadCounter(): Promise<CountTokens> {
  counter ??= import("gpt-tokenizer").then((m) => m.countTokens as CountTokens);
  return counter;
}

/**
 * An estimate of the input tokens of a request, with the o200k tokenizer (GPT-4o family). Other
 * models' tokenizers differ by some percent; this is what count_tokens answers when the target's
 * upstream cannot count for us.
 */
export async function estimateInputTokens(request: ChatRequest): Promise<number> {
  const count = await loadCounter();
  let total = 3; // every reply is primed with a few tokens
  for (const message of request.messages) {
    total += TOKENS_PER_MESSAGE;
    if (message.role === "system") {
      total += count(message.content);
      continue;
    }
    for (const part of message.content) total += part.type === "text" ? count(part.text) : TOKENS_PER_IMAGE;
    if (message.role === "assistant") {
      for (const call of message.toolCalls ?? []) total += count(call.name) + count(call.arguments) + TOKENS_PER_MESSAGE;
    }
  }
  for (const tool of request.tools ?? []) {
    total += count(tool.name) + count(tool.description ?? "") + count(JSON.stringify(tool.parameters)) + TOKENS_PER_MESSAGE;
  }
  return total;
}
