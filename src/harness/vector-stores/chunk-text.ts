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

/**
 * A document's text cut into chunks of at most `maxChunkSizeTokens` tokens (the o200k tokenizer's,
 * as OpenAI counts them), each beginning `maxChunkSizeTokens - chunkOverlapTokens` tokens after the
 * one before, so consecutive chunks share `chunkOverlapTokens` (OpenAI's static strategy). Stops
 * once `limit` chunks are cut (the caller refuses a file with more; `limit + 1` tells it so).
 * A character a cut splits in two is left out of both sides rather than shown as U+FFFD. Long runs
 * the tokenizer cannot split are tokenized in pieces (boundedRuns), so a file of them does not hold
 * the server.
 */
export async function chunkText(text: string, strategy: ChunkingStrategy, limit: number): Promise<string[]> {
  const { decode, encode } = await tokenizer();
  const tokens = boundedRuns(text).flatMap((piece) => encode(piece));
  const step = Math.max(1, strategy.maxChunkSizeTokens - strategy.chunkOverlapTokens);
  const chunks: string[] = [];
  for (let start = 0; start < tokens.length && chunks.length <= limit; start += step) {
    const slice = tokens.slice(start, start + strategy.maxChunkSizeTokens);
    const chunk = decode(slice)
      .replace(/^\uFFFD+|\uFFFD+$/g, "")
      .trim();
    if (chunk.length > 0) chunks.push(chunk);
    if (start + strategy.maxChunkSizeTokens >= tokens.length) break;
  }
  return chunks;
}
