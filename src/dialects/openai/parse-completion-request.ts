import { decodeCl100kTokens } from "../../context/decode-cl100k-tokens.js";
import { type ChatRequest, GatewayError } from "../../core/index.js";
import { type CompletionRequestBody, completionRequestSchema } from "./completions-api.js";
import { copySamplingSettings, rejectMultipleChoices } from "./parse-chat-completion-request.js";
import { parseOpenAIBody } from "./parse-openai-body.js";

/** The legacy API's default when `max_tokens` is omitted (API reference: "Defaults to 16"). */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

export interface ParsedCompletionRequest {
  chat: ChatRequest;
  includeUsage: boolean;
  /** The prompt's text: the answer's token offsets count from its end (see CompletionLogprobsWriter). */
  prompt: string;
  /** `echo: true`: the choice's text is the prompt followed by the answer. */
  echo: boolean;
}

/**
 * Validates a legacy completions body and maps it to a canonical chat request with one user message
 * whose text is the prompt (token ids read as cl100k_base). What a chat model cannot honour
 * (`suffix`, `best_of` > 1, several prompts, and `echo` with `logprobs`, which would need the
 * prompt's own tokens' logprobs) is rejected with a 400 naming the field rather than silently
 * ignored, because each changes what the answer means. `echo` alone puts the prompt before the
 * answer, as OpenAI does. `logprobs: N` asks for the answer's tokens
 * with N alternatives each (chat completions' `logprobs` and `top_logprobs`), named by the client's
 * field when the target cannot report them.
 */
export async function parseCompletionRequest(body: unknown): Promise<ParsedCompletionRequest> {
  const wire = parseOpenAIBody(completionRequestSchema, body);
  const prompt = await promptText(wire.prompt);
  rejectMultipleChoices(wire.n);
  if (wire.best_of != null && wire.best_of > 1)
    unsupported("best_of", "tandem returns one candidate per request; best_of must be 1.");
  if (wire.echo === true && wire.logprobs != null)
    unsupported("echo", "tandem cannot give the prompt's own token logprobs; send echo or logprobs, not both.");
  if (wire.suffix != null && wire.suffix !== "") unsupported("suffix", "tandem does not support suffix (insertion).");

  const chat: ChatRequest = {
    model: wire.model,
    messages: [{ role: "user", content: [{ type: "text", text: prompt }] }],
    maxTokens: wire.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
    stream: wire.stream === true,
  };
  copySamplingSettings(chat, wire);
  if (wire.logprobs != null) chat.logprobs = { topLogprobs: wire.logprobs, fields: ["logprobs"] };
  return { chat, includeUsage: chat.stream && wire.stream_options?.include_usage === true, prompt, echo: wire.echo === true };
}

/** The one prompt's text: a string, or token ids (cl100k_base, as OpenAI's completions models read them) decoded. */
async function promptText(prompt: CompletionRequestBody["prompt"]): Promise<string> {
  if (prompt == null) {
    throw new GatewayError("invalid_request", "Missing required parameter: 'prompt'.", {
      param: "prompt",
      reason: "missing_required_parameter",
    });
  }
  if (typeof prompt === "string") return prompt;
  if (prompt.length === 0) {
    throw new GatewayError(
      "invalid_request",
      "Invalid 'prompt': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      { param: "prompt", reason: "empty_array" },
    );
  }
  // One prompt of token ids, or a list of prompts that must hold exactly one.
  const one = prompt.every((item) => typeof item === "number")
    ? (prompt as number[])
    : prompt.length === 1
      ? prompt[0]
      : undefined;
  if (one === undefined || typeof one === "number") {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'prompt': send one prompt per request (a string, token ids, or an array of exactly one of them).",
      { param: "prompt" },
    );
  }
  if (typeof one === "string") return one;
  const text = one.length === 0 ? undefined : await decodeCl100kTokens(one);
  if (text === undefined) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'prompt': token ids must be whole numbers that are tokens of cl100k_base (OpenAI's completions models' encoding).",
      { param: "prompt" },
    );
  }
  return text;
}

function unsupported(param: string, why: string): never {
  throw new GatewayError("invalid_request", `Invalid value for '${param}': ${why}`, { param });
}
