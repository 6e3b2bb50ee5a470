import type { TokenLogprob, TopLogprob } from "../../core/index.js";

/**
 * A choice's `logprobs` (`{content, refusal}`, each a list of `{token, logprob, bytes, top_logprobs}`)
 * -> the canonical token logprobs of its text and of its refusal. Read as leniently as the rest of
 * the wire: an entry without a string token and a number logprob is left out, `bytes` is kept when it
 * is a list of numbers (OpenAI sends null for a token with no byte form), `top_logprobs` when a list.
 * An empty list reads as none.
 */
export function mapOpenAILogprobs(logprobs: unknown): { content?: TokenLogprob[]; refusal?: TokenLogprob[] } {
  if (typeof logprobs !== "object" || logprobs === null) return {};
  const { content, refusal } = logprobs as { content?: unknown; refusal?: unknown };
  const out: { content?: TokenLogprob[]; refusal?: TokenLogprob[] } = {};
  const text = tokens(content);
  if (text) out.content = text;
  const refused = tokens(refusal);
  if (refused) out.refusal = refused;
  return out;
}

function tokens(list: unknown): TokenLogprob[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: TokenLogprob[] = [];
  for (const entry of list) {
    const token = topLogprob(entry);
    if (!token) continue;
    const top = (entry as { top_logprobs?: unknown }).top_logprobs;
    const topLogprobs: TopLogprob[] = [];
    if (Array.isArray(top))
      for (const alternative of top) {
        const read = topLogprob(alternative);
        if (read) topLogprobs.push(read);
      }
    out.push({ ...token, topLogprobs });
  }
  return out.length === 0 ? undefined : out;
}

function topLogprob(entry: unknown): TopLogprob | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const { token, logprob, bytes } = entry as { token?: unknown; logprob?: unknown; bytes?: unknown };
  if (typeof token !== "string" || typeof logprob !== "number") return undefined;
  return Array.isArray(bytes) && bytes.every((b) => typeof b === "number") ? { token, logprob, bytes } : { token, logprob };
}
