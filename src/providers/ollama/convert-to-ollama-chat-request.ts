import {
  type ChatRequest,
  type CompletionPrompt,
  effortOnWire,
  openAISettings,
  type ProviderChatRequest,
  type ReasoningEffort,
  type ToolDefinition,
  unreadFiles,
  unsentCallArguments,
  unsentEffort,
  unsentImageDetail,
} from "../../core/index.js";
import { convertToOllamaMessages } from "./convert-to-ollama-messages.js";
import type { OllamaChatBody, OllamaGenerateBody } from "./ollama-api.js";

/** What convertToOllamaChatRequest leaves out of a request, or cannot enforce (see ChatProvider.unsent). */
export function ollamaUnsent(request: ChatRequest): string[] {
  const unsent = openAISettings(request);
  const offersTools = (request.tools?.length ?? 0) > 0;
  if (request.toolChoice === "required" && offersTools) unsent.push("tool_choice");
  // A named choice narrows the tools to that one, but the model may still answer with text: the
  // forcing is lost, as with "required", and a client that forces a call for structured output must know.
  if (typeof request.toolChoice === "object" && offersTools) unsent.push("tool_choice (only the named tool offered instead)");
  // Ollama lets the model make parallel calls, so only asking for one call at a time is lost: when
  // tools are sent at all (without them, or with tool_choice "none", there is no call to hold back).
  if (request.parallelToolCalls === false && sentTools(request).length > 0) unsent.push("parallel_tool_calls");
  if (request.user !== undefined) unsent.push("user");
  unsent.push(...unsentImageDetail(request));
  // Ollama's tools have a name, a description and parameters (api.ToolFunction): calls are not held to the schema.
  if (sentTools(request).some((tool) => tool.strict === true)) unsent.push("strict");
  unsent.push(...unreadFiles(request, () => false));
  // Ollama's call arguments are objects: history calls whose arguments are not one go as their text in one.
  unsent.push(...unsentCallArguments(request));
  if (!request.reasoning?.adaptive) unsent.push(...unsentEffort(request.reasoning, OLLAMA_EFFORTS));
  return unsent;
}

/** Ollama's `think` levels (api.ThinkValue), least first. */
const OLLAMA_EFFORTS: readonly ReasoningEffort[] = ["low", "medium", "high", "max"];

/**
 * Canonical request -> POST /api/chat body, streamed unless `request.whole`. Ollama has no `tool_choice`: "none"
 * sends no tools and a named choice sends only that tool (not enforced: named by ollamaUnsent); "required"
 * cannot be enforced and is sent as "auto". `user`, `parallelToolCalls: false` and a tool's `strict` have no
 * Ollama equivalent and are left out. A reasoning control is `think`.
 */
export function convertToOllamaChatRequest(request: ProviderChatRequest): OllamaChatBody {
  const body: OllamaChatBody = {
    model: request.upstreamModel,
    messages: convertToOllamaMessages(request.messages),
    stream: !request.whole,
  };

  const tools = sentTools(request);
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.parameters,
      },
    }));
  }

  Object.assign(body, ollamaSettings(request));
  return body;
}

/** The tools an Ollama target is sent: Ollama has no tool_choice, so "none" sends none and a named choice only that one. */
function sentTools(request: ChatRequest): ToolDefinition[] {
  const choice = request.toolChoice;
  const tools = choice === "none" ? [] : (request.tools ?? []);
  return typeof choice === "object" ? tools.filter((tool) => tool.name === choice.name) : tools;
}

/**
 * Canonical request with a raw prompt (ChatRequest.completion) -> POST /api/generate body: the
 * prompt continued as it is (`raw: true`), or with a suffix, filled in the middle by the model's own
 * template (`raw: false`, as Ollama needs it to apply its FIM template; a system prompt goes with it).
 * The settings are those of convertToOllamaChatRequest; generate has no tools.
 */
export function convertToOllamaGenerateRequest(
  request: ProviderChatRequest & { completion: CompletionPrompt },
): OllamaGenerateBody {
  const { prompt, suffix } = request.completion;
  const system = request.messages[0]?.role === "system" ? request.messages[0].content : undefined;
  return {
    model: request.upstreamModel,
    prompt,
    ...(suffix === undefined ? { raw: true } : { suffix, raw: false, ...(system && { system }) }),
    stream: !request.whole,
    ...ollamaSettings(request),
  };
}

/** The settings /api/chat and /api/generate share: format, think, logprobs, options. */
function ollamaSettings(request: ProviderChatRequest): Omit<OllamaGenerateBody, "model" | "prompt" | "stream"> {
  const body: Omit<OllamaGenerateBody, "model" | "prompt" | "stream"> = {};
  const format = request.responseFormat;
  if (format?.type === "json") body.format = "json";
  else if (format?.type === "json_schema") body.format = format.schema;

  // A level Ollama lacks goes as the nearest below (minimal as low), named. A bare budget turns thinking
  // on. Adaptive thinking leaves it to the model, as Ollama's default does (it thinks when the model can).
  const reasoning = request.reasoning;
  if (reasoning !== undefined && !reasoning.adaptive) {
    const effort = reasoning.effort === undefined ? undefined : effortOnWire(reasoning.effort, OLLAMA_EFFORTS);
    body.think = reasoning.enabled ? ((effort as OllamaGenerateBody["think"]) ?? true) : false;
  }

  // Ollama reports each token's log probability on the line that carries it (since 0.12.11; an older
  // server ignores the fields and reports none).
  if (request.logprobs !== undefined) {
    body.logprobs = true;
    if (request.logprobs.topLogprobs) body.top_logprobs = request.logprobs.topLogprobs;
  }

  const options: NonNullable<OllamaGenerateBody["options"]> = {};
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.topK !== undefined) options.top_k = request.topK;
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.stop?.length) options.stop = request.stop;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.presencePenalty !== undefined) options.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) options.frequency_penalty = request.frequencyPenalty;
  if (request.contextSize !== undefined) options.num_ctx = request.contextSize;
  if (Object.keys(options).length > 0) body.options = options;

  return body;
}
