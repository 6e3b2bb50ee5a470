import { type ChatRequest, GatewayError, type ResponseFormat, type ToolChoice, type ToolDefinition } from "../../core/index.js";
import { parseBody } from "../shared/index.js";
import { type ChatCompletionRequestBody, chatCompletionRequestSchema } from "./chat-completions-api.js";
import { convertFromOpenAIMessages, legacyFunctions } from "./convert-from-openai-messages.js";

export interface ParsedChatCompletionRequest {
  chat: ChatRequest;
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  includeUsage: boolean;
}

/**
 * Validates a chat completions body and maps it to a canonical request. The legacy
 * `functions`/`function_call` API is rejected with a 400 that says what to use instead.
 */
export function parseChatCompletionRequest(body: unknown): ParsedChatCompletionRequest {
  const wire = parseBody(chatCompletionRequestSchema, body);
  if (wire.functions !== undefined && wire.functions !== null) throw legacyFunctions("functions");
  if (wire.function_call !== undefined && wire.function_call !== null) throw legacyFunctions("function_call");
  rejectMultipleChoices(wire.n);

  const chat: ChatRequest = {
    model: wire.model,
    messages: convertFromOpenAIMessages(wire.messages),
    stream: wire.stream === true,
  };
  const tools = wire.tools?.map(
    (tool): ToolDefinition => ({
      name: tool.function.name,
      ...(tool.function.description != null && { description: tool.function.description }),
      // OpenAI treats a function without parameters as taking none.
      parameters: tool.function.parameters ?? { type: "object", properties: {} },
      ...(tool.function.strict != null && { strict: tool.function.strict }),
    }),
  );
  if (tools && tools.length > 0) chat.tools = tools;
  if (wire.tool_choice != null) chat.toolChoice = toolChoice(wire.tool_choice);
  if (wire.parallel_tool_calls != null) chat.parallelToolCalls = wire.parallel_tool_calls;
  if (wire.response_format != null) chat.responseFormat = responseFormat(wire.response_format);
  const maxTokens = wire.max_completion_tokens ?? wire.max_tokens;
  if (maxTokens != null) chat.maxTokens = maxTokens;
  copySamplingSettings(chat, wire);
  if (wire.reasoning_effort != null) {
    chat.reasoning = wire.reasoning_effort === "none" ? { enabled: false } : { enabled: true, effort: wire.reasoning_effort };
  }
  return { chat, includeUsage: chat.stream && wire.stream_options?.include_usage === true };
}

/** The sampling and tracking fields chat and legacy completions share. */
export function copySamplingSettings(
  chat: ChatRequest,
  wire: {
    temperature?: number | null;
    top_p?: number | null;
    stop?: string | string[] | null;
    seed?: number | null;
    user?: string | null;
  },
): void {
  if (wire.temperature != null) chat.temperature = wire.temperature;
  if (wire.top_p != null) chat.topP = wire.top_p;
  const stop = stopSequences(wire.stop);
  if (stop) chat.stop = stop;
  if (wire.seed != null) chat.seed = wire.seed;
  if (wire.user != null && wire.user !== "") chat.user = wire.user;
}

export function rejectMultipleChoices(n: number | null | undefined): void {
  if (n != null && n > 1) {
    throw new GatewayError("invalid_request", "Invalid value for 'n': tandem returns one choice per request; n must be 1.", {
      param: "n",
    });
  }
}

export function stopSequences(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop == null) return undefined;
  const list = (typeof stop === "string" ? [stop] : stop).filter((s) => s !== "");
  return list.length > 0 ? list : undefined;
}

function toolChoice(choice: NonNullable<ChatCompletionRequestBody["tool_choice"]>): ToolChoice {
  return typeof choice === "string" ? choice : { name: choice.function.name };
}

function responseFormat(format: NonNullable<ChatCompletionRequestBody["response_format"]>): ResponseFormat {
  switch (format.type) {
    case "text":
      return { type: "text" };
    case "json_object":
      return { type: "json" };
    case "json_schema": {
      const spec = format.json_schema;
      return {
        type: "json_schema",
        schema: spec.schema ?? {},
        name: spec.name,
        ...(spec.strict != null && { strict: spec.strict }),
      };
    }
  }
}
