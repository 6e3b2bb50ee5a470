import type { ChatRequest } from "../core/index.js";
import type { TokenCounter } from "./estimate-input-tokens.js";

/** Texts at least this long are counted beforehand (shorter ones cost little each, when asked). */
const LARGE_TEXT = 256;
/** Characters counted per piece: a text's count is the sum of its pieces' (off by at most a token each). */
const PIECE = 64 * 1024;
/** Characters counted between two exits to the event loop (about 30 ms of tokenizing). */
const SLICE = 256 * 1024;

/**
 * A token counter for one large request that answers for its texts from counts made beforehand, in
 * slices that leave the event loop in between: tokenizing takes about 130 ms a megabyte, so counting
 * a 32 MB conversation at once would hold every other client up for seconds. Other texts are counted
 * when asked, as `count` does.
 */
export async function countLargeTextsInSlices(request: ChatRequest, count: TokenCounter): Promise<TokenCounter> {
  const counted = new Map<string, number>();
  let since = 0;
  for (const text of largeTexts(request)) {
    if (counted.has(text)) continue;
    let tokens = 0;
    for (let from = 0; from < text.length; from += PIECE) {
      tokens += count(text.slice(from, from + PIECE));
      since += PIECE;
      if (since >= SLICE) {
        since = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    counted.set(text, tokens);
  }
  return (text) => counted.get(text) ?? count(text);
}

function* largeTexts(request: ChatRequest): Generator<string> {
  for (const message of request.messages) {
    if (message.role === "system") {
      if (message.content.length >= LARGE_TEXT) yield message.content;
      continue;
    }
    for (const part of message.content) {
      if (part.type === "text" && part.text.length >= LARGE_TEXT) yield part.text;
      else if (part.type === "file" && part.text !== undefined && part.text.length >= LARGE_TEXT) yield part.text;
    }
    if (message.role === "assistant") {
      for (const call of message.toolCalls ?? []) if (call.arguments.length >= LARGE_TEXT) yield call.arguments;
    }
  }
}
