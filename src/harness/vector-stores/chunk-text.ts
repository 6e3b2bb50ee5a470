import { boundedRuns } from "../../context/tokenizer-runs.js";
import type { ChunkingStrategy } from "../../core/vector-stores.js";

let loaded: Promise<typeof import("gpt-tokenizer")> | undefined;

/**
 * The o200k tokenizer, loaded on first use: its tables take about 0.8 s to load, which a server that
 * never indexes a file (and every CLI command) should not pay at start.
 */
function tokenizer(): Promise<typeof import("gpt-tokenizer")> {
  loaded ??= import("gpt-tokenizer");
  return loaded;
}

/** Characters of a document tokenized per step. */
const PIECE = 16 * 1024;
/** How long chunking runs before it leaves the event loop, in ms. */
const TURN_MS = 4;

/**
 * A document's text cut into chunks of at most `maxChunkSizeTokens` tokens (the o200k tokenizer's,
 * as OpenAI counts them), each beginning `maxChunkSizeTokens - chunkOverlapTokens` tokens after the
 * one before, so consecutive chunks share `chunkOverlapTokens` (OpenAI's static strategy). Stops
 * once `limit` chunks are cut (the caller refuses a file with more; `limit + 1` tells it so), and
 * tokenizes no further than that: a 30 MB file cut into more chunks than allowed is refused after
 * the few MB its first `limit + 1` chunks take, not after all of it. A character a cut splits in two
 * is left out of both sides rather than shown as U+FFFD. The text is tokenized a piece at a time
 * (cut where the tokenizer's own pre-split would cut, so the tokens are the same) and the work
 * leaves the event loop every few ms: tokenizing a 30 MB file at once held every other client for
 * over ten seconds. Long runs the tokenizer cannot split are tokenized in pieces (boundedRuns).
 */
export async function chunkText(text: string, strategy: ChunkingStrategy, limit: number): Promise<string[]> {
  const { decode, encode } = await tokenizer();
  const size = strategy.maxChunkSizeTokens;
  const step = Math.max(1, size - strategy.chunkOverlapTokens);
  const tokens: number[] = [];
  const chunks: string[] = [];
  let start = 0;
  let deadline = performance.now() + TURN_MS;
  // Cuts the chunks whose tokens are all known: while more text may follow, a chunk must end before
  // the last token (at the end, the last chunk is the one that reaches it).
  const cut = (atEnd: boolean): void => {
    while (chunks.length <= limit && start < tokens.length && (atEnd || start + size < tokens.length)) {
      const chunk = decode(tokens.slice(start, start + size))
        .replace(/^\uFFFD+|\uFFFD+$/g, "")
        .trim();
      if (chunk.length > 0) chunks.push(chunk);
      if (start + size >= tokens.length) {
        start = tokens.length;
        break;
      }
      start += step;
    }
  };
  for (const piece of textPieces(text)) {
    for (const run of boundedRuns(piece)) {
      for (const token of encode(run)) tokens.push(token);
      cut(false);
      if (chunks.length > limit) return chunks;
      if (performance.now() >= deadline) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        deadline = performance.now() + TURN_MS;
      }
    }
  }
  cut(true);
  return chunks;
}

/**
 * `text` in pieces of about PIECE characters, each cut where o200k's pre-split cuts anyway, so
 * tokenizing the pieces gives the tokens of the whole: after a line end that a non-space follows,
 * else before a space between two non-spaces. A piece with neither is left whole (boundedRuns cuts
 * its long runs).
 */
export function* textPieces(text: string): Generator<string> {
  let from = 0;
  while (text.length - from > PIECE) {
    const cut = pieceEnd(text, from, from + PIECE);
    if (cut === -1) break;
    yield text.slice(from, cut);
    from = cut;
  }
  yield text.slice(from);
}

const SPACE = /\s/;

/** Where a piece from `from` should end, at or before `to`; -1 when there is no such place after `from`. */
function pieceEnd(text: string, from: number, to: number): number {
  for (let at = text.lastIndexOf("\n", to - 1); at > from; at = text.lastIndexOf("\n", at - 1)) {
    if (at + 1 < text.length && !SPACE.test(text.charAt(at + 1))) return at + 1;
  }
  for (let at = text.lastIndexOf(" ", to - 1); at > from; at = text.lastIndexOf(" ", at - 1)) {
    if (at + 1 < text.length && !SPACE.test(text.charAt(at - 1)) && !SPACE.test(text.charAt(at + 1))) return at;
  }
  return -1;
}
