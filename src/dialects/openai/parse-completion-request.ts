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
 * whose text is the prompt. What a chat model cannot honour (`suffix`, `best_of` > 1, several
 * prompts, token-id prompts, and `echo` with `logprobs`, which would need the prompt's own tokens'
 * logprobs) is rejected with a 400 naming the field rather than silently ignored, because each
 * changes what the answer means. `echo` alone puts the prompt before the answer, as OpenAI does. `logprobs: N` asks for the answer's tokens
 * with N alternatives each (chat completions' `logprobs` and `top_logprobs`), named by the client's
 * field when the target cannot report them.
 */
export function parseCompletionRequest(body: unknown): ParsedCompletionRequest {
  const wire = parseOpenAIBody(completionRequestSchema, body);
  const prompt = promptText(wire.prompt);
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

function promptText(prompt: CompletionRequestBody["prompt"]): string {
  if (prompt == null) {
    throw new GatewayError("invalid_request", "Invalid value for 'prompt': you must provide a prompt.", { param: "prompt" });
  }
  if (typeof prompt === "string") return prompt;
  const [first, ...rest] = prompt;
  if (prompt.length === 0 || typeof first === "number" || Array.isArray(first)) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'prompt': token-id prompts are not supported; send the prompt as text.",
      {
        param: "prompt",
      },
    );
  }
  if (rest.length > 0 || first === undefined) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'prompt': send one prompt per request (a string or an array of exactly one string).",
      {
        param: "prompt",
      },
    );
  }
  return first;
}

function unsupported(param: string, why: string): never {
  throw new GatewayError("invalid_request", `Invalid value for '${param}': ${why}`, { param });
}
