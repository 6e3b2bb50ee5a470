import {
  budgetForEffort,
  type ChatRequest,
  effortOnWire,
  openAISettings,
  type ProviderChatRequest,
  type ReasoningControl,
  type ResponseFormat,
  unreadFiles,
  unsentCallArguments,
  unsentEffort,
  unsentImageDetail,
  unsentKeepAlive,
  unsentLogprobs,
  unsentPenalties,
} from "../../core/index.js";
import {
  ANTHROPIC_EFFORTS,
  type AnthropicEffort,
  type AnthropicMessageParam,
  type AnthropicMessagesRequest,
  type AnthropicToolChoice,
} from "./anthropic-api.js";
import { anthropicOutputSchema } from "./anthropic-output-schema.js";
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
 * - an output schema is Anthropic's structured output, `output_config.format`, when Anthropic takes
 *   the schema (anthropicOutputSchema); otherwise, and for JSON mode (which Anthropic has no field
 *   for), an instruction appended to the system prompt, named in x-tandem-warnings. A model without
 *   structured outputs refuses the field, and is sent the instruction instead (refused-anthropic-settings.ts);
 * - tool_choice is sent only with tools; parallelToolCalls false becomes disable_parallel_tool_use;
 *   a history with tool calls but a request without tools declares the tools it used (see toolsOfHistory);
 *   a strict tool is a strict tool;
 * - a reasoning control becomes `thinking` (see thinking()).
 */
export function convertToAnthropicRequest(
  request: ProviderChatRequest,
  defaults: AnthropicRequestDefaults,
): AnthropicMessagesRequest {
  const prompt = convertToAnthropicMessages(request.messages, request.anthropicToolIds);
  const body: AnthropicMessagesRequest = {
    model: request.upstreamModel,
    max_tokens: askedMaxTokens(request, defaults),
    messages: prompt.messages,
    stream: !request.whole,
  };
  const output = outputFormat(request.responseFormat);
  const system = [prompt.system, output.instruction].filter((s) => s !== undefined).join("\n\n");
  if (system !== "") body.system = system;
  if (output.format !== undefined) body.output_config = { format: output.format };

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
  } else {
    const used = toolsOfHistory(prompt.messages);
    if (used !== undefined) {
      body.tools = used;
      body.tool_choice = { type: "none" };
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

/**
 * The max_tokens convertToAnthropicRequest sends for a request (ChatProvider.sentMaxTokens): the
 * client's, or the default, raised above a thinking budget. Anthropic refuses input + max_tokens over
 * the model's window, so a conversation is fitted with room for this, not the client's own limit.
 */
export function anthropicMaxTokens(request: ChatRequest, defaults: AnthropicRequestDefaults): number {
  const asked = askedMaxTokens(request, defaults);
  const control = request.reasoning;
  if (control === undefined || !control.enabled || thinkingLeftOut(request)) return asked;
  // As thinking() decides: adaptive thinking (no budget) only with an effort, else a budget.
  if (control.adaptive && control.effort !== undefined) return asked;
  return withThinkingBudget(asked, thinkingBudget(control));
}

function askedMaxTokens(request: ChatRequest, defaults: AnthropicRequestDefaults): number {
  return Math.max(1, Math.floor(request.maxTokens ?? defaults.defaultMaxTokens));
}

function thinkingBudget(control: ReasoningControl): number {
  return Math.max(1024, Math.floor(control.budgetTokens ?? budgetForEffort(control.effort)));
}

/** Anthropic wants max_tokens above the thinking budget: one at or under it becomes budget + the answer's own allowance. */
function withThinkingBudget(maxTokens: number, budget: number): number {
  return maxTokens <= budget ? budget + maxTokens : maxTokens;
}

/** What convertToAnthropicRequest leaves out of a request (see ChatProvider.unsent). */
export function anthropicUnsent(request: ChatRequest): string[] {
  // Anthropic's API reports no token log probabilities.
  const unsent = [
    ...openAISettings(request),
    ...unsentLogprobs(request),
    ...unsentPenalties(request),
    ...unsentKeepAlive(request),
  ];
  if (request.seed !== undefined) unsent.push("seed");
  unsent.push(...unsentImageDetail(request));
  // PDFs go as documents; other files as their text, when they have one.
  unsent.push(...unreadFiles(request, (type) => type === "application/pdf"));
  // A tool_use input is an object: history calls whose arguments are not one go as their text in one.
  unsent.push(...unsentCallArguments(request));
  unsent.push(...instructedFormat(request.responseFormat));
  if (thinkingLeftOut(request)) unsent.push("thinking");
  // Adaptive thinking's effort is output_config.effort (minimal as low); a budget is its own.
  else if (request.reasoning?.adaptive) unsent.push(...unsentEffort(request.reasoning, ANTHROPIC_EFFORTS));
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

/**
 * For a request without tools whose history has tool calls or results: the tools the history used,
 * to be sent with `tool_choice: none`. Anthropic refuses tool_use and tool_result blocks in a request
 * that defines no tools ("Requests which include `tool_use` or `tool_result` blocks must define
 * tools."), where OpenAI's APIs take such a history (a Responses chain moved to Claude for a question
 * without tools, say). Declared by name with a permissive schema, and not callable (`none`), the
 * model reads the calls and results as the tool blocks it was trained on and answers in text; the
 * other mend, the calls rendered as text, invites a model to write calls as text of its own. A
 * result whose call is not in the request (it was cut off when the conversation was fitted) leaves
 * no name: a placeholder tool is declared then.
 */
function toolsOfHistory(messages: readonly AnthropicMessageParam[]): AnthropicMessagesRequest["tools"] {
  const names = new Set<string>();
  let results = false;
  for (const message of messages) {
    if (typeof message.content === "string") continue;
    for (const block of message.content) {
      if (block.type === "tool_use") names.add(block.name);
      else if (block.type === "tool_result") results = true;
    }
  }
  if (names.size === 0 && !results) return undefined;
  if (names.size === 0) names.add(EARLIER_TOOL);
  return [...names].map((name) => ({
    name,
    description: "A tool used earlier in this conversation; it cannot be called now.",
    input_schema: { type: "object" },
  }));
}

/** The tool a history with tool results but none of their calls declares (see toolsOfHistory). */
const EARLIER_TOOL = "earlier_tool";

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

/** How an output format goes to Anthropic: as structured output, or as an instruction in the system prompt. */
function outputFormat(format: ResponseFormat | undefined): {
  format?: NonNullable<AnthropicMessagesRequest["output_config"]>["format"];
  instruction?: string;
} {
  if (!format || format.type === "text") return {};
  if (format.type === "json") return { instruction: JSON_INSTRUCTION };
  const sent = anthropicOutputSchema(format.schema);
  return "schema" in sent
    ? { format: { type: "json_schema", schema: sent.schema } }
    : { instruction: schemaInstruction(format.schema) };
}

/**
 * For x-tandem-warnings: an output format Anthropic is asked for only in words (outputFormat), which
 * the model may not keep to (the route's quality check still holds the answer to it).
 */
function instructedFormat(format: ResponseFormat | undefined): string[] {
  if (format?.type === "json") return ["JSON mode (Anthropic has none: asked for in the system prompt instead)"];
  if (format?.type !== "json_schema") return [];
  const sent = anthropicOutputSchema(format.schema);
  if ("schema" in sent) return [];
  return [
    `the output schema as structured output (it uses ${sent.untaken}, which Anthropic's structured outputs do not take: asked for in the system prompt instead)`,
  ];
}

const JSON_INSTRUCTION = "Respond with a single valid JSON value and nothing else: no prose, no Markdown code fences.";

/** The system prompt's instruction for an output schema Anthropic is not sent as structured output. */
export function schemaInstruction(schema: Record<string, unknown>): string {
  return (
    "Respond with a single JSON value that conforms to this JSON Schema, and nothing else: no prose, no Markdown code fences.\n" +
    JSON.stringify(schema)
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
    body.output_config = { ...body.output_config, effort: effortOnWire(control.effort, ANTHROPIC_EFFORTS) as AnthropicEffort };
    return;
  }
  const budget = thinkingBudget(control);
  body.thinking = { type: "enabled", budget_tokens: budget };
  body.max_tokens = withThinkingBudget(body.max_tokens, budget);
  delete body.temperature;
  delete body.top_k;
  if (body.tool_choice?.type === "any" || body.tool_choice?.type === "tool") {
    const { disable_parallel_tool_use } = body.tool_choice;
    body.tool_choice = { type: "auto", ...(disable_parallel_tool_use !== undefined && { disable_parallel_tool_use }) };
  }
}
