import { decodeCl100kTokens } from "../../context/decode-cl100k-tokens.js";
import { type ChatRequest, type CompletionPrompt, GatewayError } from "../../core/index.js";
import { type CompletionRequestBody, completionRequestSchema } from "./completions-api.js";
import { copySamplingSettings } from "./parse-chat-completion-request.js";
import { parseOpenAIBody } from "./parse-openai-body.js";

/** The legacy API's default when `max_tokens` is omitted (API reference: "Defaults to 16"). */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

/**
 * The most answers one request may have tandem generate: its prompts times `best_of` (or `n`, when
 * larger or `best_of` is unset). Each is a request of its own through the router; the bound is n's
 * own maximum (128), so a batch of prompts cannot make a request unbounded work.
 */
export const MAX_COMPLETION_GENERATIONS = 128;

export interface ParsedCompletionRequest {
  /** The first prompt's request; each other prompt's differs only in its message (see `forPrompt`). */
  chat: ChatRequest;
  includeUsage: boolean;
  /** Every prompt's text, in order: the answer's token offsets count from its end (see CompletionLogprobsWriter). */
  prompts: string[];
  /** Every prompt as text to continue, in order (with its token ids where the client sent ids): see forPrompt. */
  completions: CompletionPrompt[];
  /** Choices returned per prompt (`n`). */
  n: number;
  /** Candidates generated per prompt (`best_of`, at least `n`); above `n`, the `n` with the highest mean token logprob are returned. */
  bestOf: number;
  /** `echo: true`: the choice's text is its prompt followed by the answer. */
  echo: boolean;
  /** The client asked for the answer's tokens (`logprobs: N`). */
  logprobs: boolean;
}

/**
 * Validates a legacy completions body and maps it to canonical requests, one per prompt, whose
 * prompt is text to continue (CompletionPrompt, with the `suffix` to fill in up to when one is
 * sent) and, for a target that can only chat, one user message whose text is the prompt (token ids
 * read as cl100k_base). Several prompts (an array of strings or of token-id arrays), `n` and
 * `best_of` are the route's to fan out. A suffix goes only where a target can insert (the router
 * refuses it naming `suffix` when none of the route can); with `echo` and `logprobs` it is a 400
 * naming `echo`. `echo` alone puts the prompt before the answer, as OpenAI does. `logprobs: N` asks for
 * the answer's tokens with N alternatives each (chat completions' `logprobs` and `top_logprobs`),
 * named by the client's field when the target cannot report them. `best_of` above `n` asks every
 * target for logprobs too, which rank the candidates.
 *
 * A prompt of token ids keeps its ids (CompletionPrompt.tokens) for the embedded engine, which reads
 * them as its model's own (as llama-server and vLLM do); other targets read them as cl100k_base, and
 * ids that are none of its tokens can go only to the engine. `echo` with `logprobs` asks for the
 * prompt's own tokens' logprobs too (lm-evaluation-harness's log-likelihood requests), which only the
 * engine reports: the router refuses them naming `echo` when no target of the route can. `max_tokens:
 * 0` answers the prompt's tokens alone, so it needs `echo` with `logprobs`.
 */
export async function parseCompletionRequest(body: unknown): Promise<ParsedCompletionRequest> {
  const wire = parseOpenAIBody(completionRequestSchema, body);
  const inputs = await promptInputs(wire.prompt);
  const prompts = inputs.map((input) => input.prompt);
  const n = wire.n ?? 1;
  // best_of 0 (the reference's minimum) or unset: as many candidates as choices.
  const bestOf = wire.best_of == null || wire.best_of === 0 ? n : wire.best_of;
  if (bestOf < n) unsupported("best_of", "best_of must be greater than or equal to n.");
  if (bestOf > n && wire.stream === true)
    unsupported(
      "best_of",
      "results cannot be streamed when best_of is greater than n (the candidates are ranked once complete).",
    );
  const generations = prompts.length * bestOf;
  if (generations > MAX_COMPLETION_GENERATIONS) {
    const param = bestOf > n ? "best_of" : wire.n != null && wire.n > 1 ? "n" : "prompt";
    unsupported(
      param,
      `this request would generate ${generations} completions (${prompts.length} prompt${prompts.length === 1 ? "" : "s"} × ${bestOf}); tandem generates at most ${MAX_COMPLETION_GENERATIONS} per request.`,
    );
  }
  // An empty suffix is none (what follows the gap is nothing).
  const suffix = wire.suffix == null || wire.suffix === "" ? undefined : wire.suffix;
  const echo = wire.echo !== true ? undefined : wire.logprobs != null ? "logprobs" : "text";
  if (echo === "logprobs" && suffix !== undefined)
    unsupported(
      "echo",
      "the prompt's own token logprobs cannot be given for a fill-in-the-middle prompt; send echo with logprobs or suffix, not both.",
    );
  if (wire.max_tokens === 0 && echo !== "logprobs")
    unsupported(
      "max_tokens",
      "max_tokens 0 answers the prompt's own tokens alone; send it with echo and logprobs, or ask for at least 1 token.",
    );
  const completions = inputs.map((input) => completionPrompt(input, suffix, echo));

  const chat: ChatRequest = {
    model: wire.model,
    messages: promptMessages(prompts[0] as string),
    completion: completions[0] as CompletionPrompt,
    maxTokens: wire.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
    stream: wire.stream === true,
  };
  copySamplingSettings(chat, wire);
  if (wire.logprobs != null) chat.logprobs = { topLogprobs: wire.logprobs, fields: ["logprobs"] };
  if (bestOf > n) {
    // The ranking needs every candidate's token logprobs: a target that cannot report them is named by `best_of`.
    chat.logprobs = { ...(wire.logprobs != null && { topLogprobs: wire.logprobs }), fields: ["best_of"] };
  }
  return {
    chat,
    includeUsage: chat.stream && wire.stream_options?.include_usage === true,
    prompts,
    completions,
    n,
    bestOf,
    echo: wire.echo === true,
    logprobs: wire.logprobs != null,
  };
}

/** One prompt's request: the parsed one with that prompt as its message and its text to continue. */
export function forPrompt(chat: ChatRequest, completion: CompletionPrompt): ChatRequest {
  return { ...chat, messages: promptMessages(completion.prompt), completion };
}

/** One prompt as the client sent it: its text, and its ids when it sent ids (without text when they are no cl100k_base tokens). */
type PromptInput = Pick<CompletionPrompt, "prompt" | "tokens" | "tokensOnly">;

function completionPrompt(input: PromptInput, suffix: string | undefined, echo: CompletionPrompt["echo"]): CompletionPrompt {
  const completion: CompletionPrompt = { ...input };
  if (suffix !== undefined) completion.suffix = suffix;
  if (echo !== undefined) completion.echo = echo;
  return completion;
}

function promptMessages(prompt: string): ChatRequest["messages"] {
  return [{ role: "user", content: [{ type: "text", text: prompt }] }];
}

/**
 * Every prompt: a string, a list of strings, token ids or a list of token-id lists (their text
 * decoded as cl100k_base, as OpenAI's completions models read them, and the ids kept).
 */
async function promptInputs(prompt: CompletionRequestBody["prompt"]): Promise<PromptInput[]> {
  if (prompt == null) {
    throw new GatewayError("invalid_request", "Missing required parameter: 'prompt'.", {
      param: "prompt",
      reason: "missing_required_parameter",
    });
  }
  if (typeof prompt === "string") return [{ prompt }];
  if (prompt.length === 0) {
    throw new GatewayError(
      "invalid_request",
      "Invalid 'prompt': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      { param: "prompt", reason: "empty_array" },
    );
  }
  // One prompt of token ids.
  if (prompt.every((item) => typeof item === "number")) return [await tokenPrompt(prompt as number[], "prompt")];
  if (prompt.length > MAX_COMPLETION_GENERATIONS) {
    throw new GatewayError(
      "invalid_request",
      `Invalid 'prompt': array too long. Expected an array with maximum length ${MAX_COMPLETION_GENERATIONS}, but got an array with length ${prompt.length} instead.`,
      { param: "prompt", reason: "array_above_max_length" },
    );
  }
  // A list of prompts: all strings, or all token-id lists (the reference's two list forms).
  const texts = prompt.every((item) => typeof item === "string") ? (prompt as string[]) : undefined;
  if (texts !== undefined) return texts.map((text) => ({ prompt: text }));
  if (!prompt.every((item) => Array.isArray(item))) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'prompt': expected a string, an array of strings, an array of token ids, or an array of token-id arrays, not a mix.",
      { param: "prompt" },
    );
  }
  const out: PromptInput[] = [];
  for (const [i, ids] of (prompt as number[][]).entries()) out.push(await tokenPrompt(ids, `prompt[${i}]`));
  return out;
}

/**
 * A prompt of token ids: the ids, and their cl100k_base text when they are tokens of it (else none:
 * only the embedded engine, which reads its model's own ids, can take it). A 400 naming the prompt
 * when they are no ids at all.
 */
async function tokenPrompt(ids: number[], param: string): Promise<PromptInput> {
  if (ids.length === 0 || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new GatewayError(
      "invalid_request",
      `Invalid value for '${param}': token ids must be whole numbers of 0 or more, at least one.`,
      { param },
    );
  }
  const text = await decodeCl100kTokens(ids);
  return text === undefined ? { prompt: "", tokens: ids, tokensOnly: true } : { prompt: text, tokens: ids };
}

function unsupported(param: string, why: string): never {
  throw new GatewayError("invalid_request", `Invalid value for '${param}': ${why}`, { param });
}
