import {
  type ChatRequest,
  GatewayError,
  logprobsRequest,
  type ToolDefinition,
  type WrittenMessageValue,
  writtenMessageValues,
} from "../../core/index.js";
import { convertFromOllamaMessages } from "./convert-from-ollama-messages.js";
import type { OllamaChatRequest } from "./ollama-server-api.js";
import { parseOllamaSampling } from "./parse-ollama-sampling.js";
import { ollamaThink } from "./parse-ollama-think.js";

/**
 * POST /api/chat body -> canonical chat request. `stream` defaults to true, as in Ollama. `written`:
 * the body's values as the client wrote them, so a history call's `arguments` keep their digits.
 */
export function parseOllamaChatRequest(
  body: OllamaChatRequest,
  written: WrittenMessageValue = writtenMessageValues(undefined),
): ChatRequest {
  const request: ChatRequest = {
    model: body.model,
    messages: convertFromOllamaMessages(body.messages ?? [], written),
    stream: body.stream ?? true,
    ...parseOllamaSampling(body.format, body.options),
    ...ollamaLogprobs(body),
  };
  if (body.tools?.length) {
    request.tools = body.tools.map(
      (tool): ToolDefinition => ({
        name: tool.function.name,
        ...(tool.function.description ? { description: tool.function.description } : {}),
        parameters: tool.function.parameters ?? { type: "object", properties: {} },
      }),
    );
  }
  if (body.think != null) request.reasoning = ollamaThink(body.think);
  return request;
}

/**
 * Ollama's `logprobs: true` (with `top_logprobs`) as the canonical request; `top_logprobs` alone asks
 * nothing, as in Ollama, though it is checked either way, with Ollama's 400.
 */
export function ollamaLogprobs(body: { logprobs?: boolean | null; top_logprobs?: number | null }): Pick<ChatRequest, "logprobs"> {
  const top = body.top_logprobs;
  if (top != null && (top < 0 || top > 20)) {
    throw new GatewayError("invalid_request", "top_logprobs must be between 0 and 20", { param: "top_logprobs" });
  }
  return body.logprobs === true ? { logprobs: logprobsRequest(body.top_logprobs) } : {};
}
