/*
 * Token log probabilities across wires: what a client asks for (chat completions' and Ollama's
 * `logprobs` and `top_logprobs`, a Responses `include: ["message.output_text.logprobs"]` with
 * `top_logprobs`, legacy completions' `logprobs: N`), and what an upstream reports for each output
 * token, carried on the text-delta events whose text those tokens make up. Each dialect renders them
 * in its own shape.
 */

/** The client's request for the answer's token log probabilities. */
export interface LogprobsRequest {
  /**
   * How many of the most likely tokens at each position to report with theirs (0-20), when the
   * client said; the upstream's default (none) otherwise.
   */
  topLogprobs?: number;
  /**
   * The client's own fields that asked, as a target that cannot report them names them in
   * x-tandem-warnings, where they are not chat completions' (legacy completions' `logprobs: N` is
   * both); default `logprobs`, and `top_logprobs` when more than 0 alternatives were asked.
   */
  fields?: readonly string[];
}

/** A request for logprobs with `topLogprobs` alternatives per token when the client gave a number, the upstream's default otherwise. */
export function logprobsRequest(topLogprobs: number | null | undefined): LogprobsRequest {
  return topLogprobs == null ? {} : { topLogprobs };
}

/** One of the most likely tokens at a position. */
export interface TopLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes, where the upstream gave them (a token may hold part of a character). */
  bytes?: number[];
}

/** One output token and its log probability, as the upstream reported it. */
export interface TokenLogprob extends TopLogprob {
  /** The most likely tokens at its position, most likely first: as many as asked for, or fewer. */
  topLogprobs: TopLogprob[];
}

/**
 * One token of the prompt and its log probability given the tokens before it (legacy completions'
 * `echo` with `logprobs`). The first token has nothing before it: its logprob and alternatives are
 * null, as OpenAI and vLLM give them.
 */
export interface PromptTokenLogprob {
  token: string;
  /** The token's UTF-8 bytes (a token may hold part of a character; a beginning-of-text token added by the engine none). */
  bytes: number[];
  logprob: number | null;
  /** The most likely tokens at its position, most likely first; null for the first token. */
  topLogprobs: TopLogprob[] | null;
}

/**
 * What of a request's logprobs (ChatRequest.logprobs) a target that cannot report them is not sent,
 * by the client's own names (LogprobsRequest.fields), for ChatProvider.unsent.
 */
export function unsentLogprobs(request: { logprobs?: LogprobsRequest }): string[] {
  const asked = request.logprobs;
  if (asked === undefined) return [];
  if (asked.fields !== undefined) return [...asked.fields];
  return asked.topLogprobs ? ["logprobs", "top_logprobs"] : ["logprobs"];
}

/**
 * A wire's list of output tokens (`[{token, logprob, bytes, top_logprobs}]`, as OpenAI's
 * `choices[].logprobs.content` and Ollama's `logprobs` give them) -> canonical token logprobs. Read
 * leniently: an entry without a string token and a number logprob is left out (not the list); `bytes`
 * is kept when a list of numbers (OpenAI sends null for a token with no byte form); `top_logprobs`
 * when a list. An empty list reads as none.
 */
export function readTokenLogprobs(list: unknown): TokenLogprob[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: TokenLogprob[] = [];
  for (const entry of list) {
    const token = readTopLogprob(entry);
    if (!token) continue;
    const top = (entry as { top_logprobs?: unknown }).top_logprobs;
    const topLogprobs: TopLogprob[] = [];
    if (Array.isArray(top))
      for (const alternative of top) {
        const read = readTopLogprob(alternative);
        if (read) topLogprobs.push(read);
      }
    out.push({ ...token, topLogprobs });
  }
  return out.length === 0 ? undefined : out;
}

function readTopLogprob(entry: unknown): TopLogprob | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const { token, logprob, bytes } = entry as { token?: unknown; logprob?: unknown; bytes?: unknown };
  if (typeof token !== "string" || typeof logprob !== "number") return undefined;
  return Array.isArray(bytes) && bytes.every((b) => typeof b === "number") ? { token, logprob, bytes } : { token, logprob };
}

const UTF8 = new TextEncoder();

/** A token's bytes: the upstream's, else its text's UTF-8 (what they are whenever the token is whole characters). */
export function tokenBytes(token: { token: string; bytes?: number[] }): number[] {
  return token.bytes ?? [...UTF8.encode(token.token)];
}
