import {
  effortOf,
  effortOnWire,
  type ProviderChatRequest,
  type ReasoningControl,
  type ReasoningEffort,
  withJsonModeWord,
} from "../../core/index.js";
import { convertToOpenAIMessages } from "./convert-to-openai-messages.js";
import { OPENAI_EFFORTS, type OpenAIChatRequestBody } from "./openai-chat-api.js";
import { openAIStrict } from "./openai-strict-schema.js";

/** Which field carries the output token limit; see OpenAIProviderOptions.maxTokensField. */
export type MaxTokensField = "max_tokens" | "max_completion_tokens";

/**
 * Canonical request -> POST /chat/completions body: streamed with usage in the last chunk, or one
 * whole answer when `request.whole`.
 * `topK` has no OpenAI field (api.openai.com rejects unknown arguments) and is not sent. Penalties
 * go within OpenAI's -2..2 (an Ollama client's may be outside it). A reasoning control is
 * `reasoning_effort`; earlier turns' reasoning is sent only as `reasoning_content`, to an upstream
 * that reads it (`reasoningContent`: OpenAI's wire has no field for it). JSON mode goes with a line
 * that says "json" when the conversation does not (withJsonModeWord).
 */
export function convertToOpenAIChatRequest(
  request: ProviderChatRequest,
  maxTokensField: MaxTokensField,
  reasoningContent = false,
): OpenAIChatRequestBody {
  const body: OpenAIChatRequestBody = {
    model: request.upstreamModel,
    // JSON mode is refused without the word "json" in the conversation (withJsonModeWord).
    messages: convertToOpenAIMessages(
      request.responseFormat?.type === "json" ? withJsonModeWord(request.messages) : request.messages,
      reasoningContent,
    ),
    ...(request.whole ? { stream: false } : { stream: true, stream_options: { include_usage: true } }),
  };
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        parameters: tool.parameters,
        ...(tool.strict !== undefined && { strict: tool.strict }),
      },
    }));
    // OpenAI rejects parallel_tool_calls (and a named tool_choice is meaningless) without tools.
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.toolChoice !== undefined && (tools.length > 0 || request.toolChoice === "none")) {
    body.tool_choice =
      typeof request.toolChoice === "string"
        ? request.toolChoice
        : { type: "function", function: { name: request.toolChoice.name } };
  }
  const format = request.responseFormat;
  if (format?.type === "json") body.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    body.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name ?? "response",
        schema: format.schema,
        ...(openAIStrict(format) !== undefined && { strict: openAIStrict(format) }),
      },
    };
  }
  if (request.maxTokens !== undefined) body[maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.presencePenalty !== undefined) body.presence_penalty = penalty(request.presencePenalty);
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = penalty(request.frequencyPenalty);
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.user !== undefined) body.user = request.user;
  if (request.logprobs !== undefined) {
    body.logprobs = true;
    if (request.logprobs.topLogprobs !== undefined) body.top_logprobs = request.logprobs.topLogprobs;
  }
  if (request.promptCacheKey !== undefined) body.prompt_cache_key = request.promptCacheKey;
  if (request.safetyIdentifier !== undefined) body.safety_identifier = request.safetyIdentifier;
  if (request.serviceTier !== undefined) body.service_tier = request.serviceTier;
  if (request.verbosity !== undefined) body.verbosity = request.verbosity;
  // A budget as the closest effort level; "no reasoning" has no value every server takes, so it is not sent.
  const reasoning = request.reasoning;
  if (reasoning?.enabled) {
    body.reasoning_effort = openAIEffort(reasoning);
  }
  return body;
}

/** The effort an OpenAI wire is sent: the level asked, or a budget's nearest, `max` as xhigh (named by unsentEffort). */
export function openAIEffort(reasoning: ReasoningControl): ReasoningEffort {
  return effortOnWire(effortOf(reasoning), OPENAI_EFFORTS);
}

/** A penalty within OpenAI's range, -2..2. */
function penalty(value: number): number {
  return Math.min(2, Math.max(-2, value));
}
