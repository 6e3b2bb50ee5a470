import { readTokenLogprobs, type TokenLogprob } from "../../core/index.js";

/**
 * A choice's `logprobs` (`{content, refusal}`, each a list of `{token, logprob, bytes, top_logprobs}`)
 * -> the canonical token logprobs of its text and of its refusal (read as core's readTokenLogprobs
 * reads any wire's list).
 */
export function mapOpenAILogprobs(logprobs: unknown): { content?: TokenLogprob[]; refusal?: TokenLogprob[] } {
  if (typeof logprobs !== "object" || logprobs === null) return {};
  const { content, refusal } = logprobs as { content?: unknown; refusal?: unknown };
  const out: { content?: TokenLogprob[]; refusal?: TokenLogprob[] } = {};
  const text = readTokenLogprobs(content);
  if (text) out.content = text;
  const refused = readTokenLogprobs(refusal);
  if (refused) out.refusal = refused;
  return out;
}
