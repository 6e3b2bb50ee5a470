import {
  budgetForEffort,
  type ChatRequest,
  openAISettings,
  type ProviderChatRequest,
  type ReasoningControl,
  type ResponseFormat,
  unreadFiles,
  unsentLogprobs,
  unsentPenalties,
} from "../../core/index.js";
import type { AnthropicMessagesRequest, AnthropicToolChoice } from "./anthropic-api.js";
import { convertToAnthropicMessages } from "./convert-to-anthropic-messages.js";
import { toolLoopWithoutThinking } from "./tool-loop-thinking.js";

export interface AnthropicRequestDefaults {
  /** Sent when the client gave no max_tokens (Anthropic requires one). */
  defaultMaxTokens: number;
}

/**
 * A canonical request as an Anthropic Messages request body, streamed unless `request.whole`. Settings Anthropic
 * has no equivalent for are adapted or dropped, never turned into an upstream 400:
 * - temperature is clamped to Anthropic's 0..1 (OpenAI clients may send up to 2);
 * - `seed` and the presence and frequency penalties are dropped (Anthropic has neither);
 *   whitespace-only stop sequences (which Anthropic rejects) are dropped;
 * - response_format json / json_schema becomes an instruction appended to the system prompt, which
 *   works on every Claude model (Anthropic's own structured outputs are model- and version-specific);
 * - tool_choice is sent only with tools; parallelToolCalls false becomes disable_parallel_tool_use;
 *   a strict tool is a strict tool;
 * - a reasoning control becomes `thinking` (see thinking()).
 */
export function convertToAnthropicRequest(
  request: ProviderChatRequest,
  defaults: AnthropicRequestDefaults,
): AnthropicMessagesRequest {
  const prompt = convertToAnthropicMessages(request.messages);
  const body: AnthropicMessagesRequest = {
    model: request.upstreamModel,
    max_tokens: Math.max(1, Math.floor(request.maxTokens ?? defaults.defaultMaxTokens)),
    messages: prompt.messages,
    stream: !request.whole,
  };
  const system = [prompt.system, formatInstruction(request.responseFormat)].filter((s) => s !== undefined).join("\n\n");
  if (system !== "") body.system = system;

  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      // Anthropic requires an object schema; canonical tools from loose clients may omit the type.
      input_schema: { type: "object", ...tool.parameters },
      // Anthropic's Tool.strict (structured outputs). Only when asked: false is its default, and an
      // Anthropic-compatible upstream that predates the field is then sent nothing new.
      ...(tool.strict === true && { strict: true }),
    }));
    const choice = toolChoice(request.toolChoice);
    if (request.parallelToolCalls === false && choice?.type !== "none") {
      body.tool_choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
    } else if (choice) {
      body.tool_choice = choice;
    }
  }

  const stops = (request.stop ?? []).filter((s) => s.trim() !== "");
  if (stops.length > 0) body.stop_sequences = stops;
  if (request.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, request.temperature));
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.reasoning !== undefined && !thinkingLeftOut(request)) thinking(body, request.reasoning);
  return body;
}

/** What convertToAnthropicRequest leaves out of a request (see ChatProvider.unsent). */
export function anthropicUnsent(request: ChatRequest): string[] {
  // Anthropic's API reports no token log probabilities.
  const unsent = [...openAISettings(request), ...unsentLogprobs(request), ...unsentPenalties(request)];
  if (request.seed !== undefined) unsent.push("seed");
  // PDFs go as documents; other files as their text, when they have one.
  unsent.push(...unreadFiles(request, (type) => type === "application/pdf"));
  if (thinkingLeftOut(request)) unsent.push("thinking");
  // With thinking (but adaptive, which takes a forced tool), Anthropic takes no temperature but 1, no top_k and no forced tool.
  else if (request.reasoning?.enabled && !request.reasoning.adaptive) {
    if (request.temperature !== undefined && request.temperature !== 1) unsent.push("temperature");
    if (request.topK !== undefined) unsent.push("top_k");
    if ((request.tools?.length ?? 0) > 0 && (request.toolChoice === "required" || typeof request.toolChoice === "object"))
      unsent.push("tool_choice");
  }
  return unsent;
}

/** Thinking asked for in the middle of a tool loop whose turn has no thinking Anthropic can check (see toolLoopWithoutThinking). */
function thinkingLeftOut(request: ChatRequest): boolean {
  return request.reasoning?.enabled === true && request.reasoning.adaptive !== true && toolLoopWithoutThinking(request.messages);
}

function toolChoice(choice: ProviderChatRequest["toolChoice"]): AnthropicToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === "object") return { type: "tool", name: choice.name };
  switch (choice) {
    case "auto":
      return { type: "auto" };
    case "required":
      return { type: "any" };
    case "none":
      return { type: "none" };
  }
}

function formatInstruction(format: ResponseFormat | undefined): string | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json") {
    return "Respond with a single valid JSON value and nothing else: no prose, no Markdown code fences.";
  }
  return (
    "Respond with a single JSON value that conforms to this JSON Schema, and nothing else: no prose, no Markdown code fences.\n" +
    JSON.stringify(format.schema)
  );
}

/**
 * The canonical reasoning control as Anthropic's `thinking`: a budget as given or for the effort
 * (budgetForEffort). Anthropic wants max_tokens above the budget (raised to budget + the answer's
 * own allowance when it is not), and with thinking no temperature but 1, no top_k and no forced
 * tool: those are left out rather than sent to fail.
 */
function thinking(body: AnthropicMessagesRequest, control: ReasoningControl): void {
  if (!control.enabled) {
    body.thinking = { type: "disabled" };
    return;
  }
  // Adaptive, as the client asked: the model decides, at the effort given.
  if (control.adaptive && control.effort !== undefined) {
    body.thinking = { type: "adaptive" };
    body.output_config = { ...body.output_config, effort: control.effort === "minimal" ? "low" : control.effort };
    return;
  }
  const budget = Math.max(1024, Math.floor(control.budgetTokens ?? budgetForEffort(control.effort)));
  body.thinking = { type: "enabled", budget_tokens: budget };
  if (body.max_tokens <= budget) body.max_tokens = budget + body.max_tokens;
  delete body.temperature;
  delete body.top_k;
  if (body.tool_choice?.type === "any" || body.tool_choice?.type === "tool") {
    const { disable_parallel_tool_use } = body.tool_choice;
    body.tool_choice = { type: "auto", ...(disable_parallel_tool_use !== undefined && { disable_parallel_tool_use }) };
  }
}
