import { type TokenLogprob, tokenBytes } from "../../../core/index.js";

/** A token on an `output_text` part (the SDK's `ResponseOutputText.Logprob`): with its bytes and theirs of its alternatives. */
export interface OutputTextLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** A token on `response.output_text.delta` and `.done` (the SDK's `ResponseTextDeltaEvent.Logprob`): no bytes. */
export interface TextEventLogprob {
  token: string;
  logprob: number;
  top_logprobs: { token: string; logprob: number }[];
}

/**
 * Canonical token logprobs as an `output_text` part has them. A token whose upstream gave no bytes
 * (OpenAI's null: no byte form) gets its text's UTF-8, since the part's type requires them.
 */
export function outputTextLogprobs(tokens: readonly TokenLogprob[]): OutputTextLogprob[] {
  return tokens.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: tokenBytes(t),
    top_logprobs: t.topLogprobs.map((a) => ({ token: a.token, logprob: a.logprob, bytes: tokenBytes(a) })),
  }));
}

/** Canonical token logprobs as the text events have them. */
export function textEventLogprobs(tokens: readonly TokenLogprob[]): TextEventLogprob[] {
  return tokens.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    top_logprobs: t.topLogprobs.map((a) => ({ token: a.token, logprob: a.logprob })),
  }));
}
