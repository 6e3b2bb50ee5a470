import {
  type ChatRequest,
  checkResponseSchema,
  GatewayError,
  logprobsRequest,
  type ResponseFormat,
  type ToolChoice,
  type ToolDefinition,
  type WireOnly,
} from "../../core/index.js";
import { ALLOWED_TOOLS_APPROXIMATED } from "./allowed-tools-choice.js";
import { type ChatCompletionRequestBody, chatCompletionRequestSchema } from "./chat-completions-api.js";
import { convertFromOpenAIMessages } from "./convert-from-openai-messages.js";
import { customToolDefinition, parseChatCustomTool } from "./custom-tools.js";
import type { FileResolver } from "./files/file-resolver.js";
import { checkLegacyMix, legacyToolChoice, legacyTools } from "./legacy-functions.js";
import { parseOpenAIBody } from "./parse-openai-body.js";

export interface ParsedChatCompletionRequest {
  chat: ChatRequest;
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  includeUsage: boolean;
  /** What the canonical form cannot express, for a target on the OpenAI chat wire only (NativeRequest.wireOnly). */
  wireOnly: WireOnly[];
  /** What crosses to another wire only as its closest canonical form, named for `x-tandem-warnings`. */
  approximated: string[];
  /** The names of the request's custom tools, offered to a target as function tools (custom-tools.ts): a call of one is rendered as a custom tool call. */
  custom: ReadonlySet<string>;
  /** `n`: how many choices the client asked for (1 when it did not say). */
  choices: number;
  /**
   * The request offered its tools as the deprecated `functions` (legacy-functions.ts): the answer's
   * call is rendered as `message.function_call`, one at most.
   */
  legacyFunctions: boolean;
}

/**
 * Validates a chat completions body and maps it to a canonical request. The deprecated functions
 * API is read as the canonical tools, choice, calls and results (legacy-functions.ts); mixed with
 * `tools`, it is refused as OpenAI refuses it.
 */
/**
 * `routeTools`: the model is a route with tools of its own (routeToolsAnswerChoice), which a forced
 * choice without the request's tools may call.
 */
export function parseChatCompletionRequest(body: unknown, files?: FileResolver, routeTools = false): ParsedChatCompletionRequest {
  const wire = parseOpenAIBody(chatCompletionRequestSchema, body);
  checkLegacyMix(wire);
  const wireOnly: WireOnly[] = [];
  const approximated: string[] = [];
  // Several choices: only an OpenAI-compatible target answers them (every choice comes back as it sent it).
  if (wire.n != null && wire.n > 1) wireOnly.push({ param: "n", what: `n: ${wire.n} (several choices)` });

  const chat: ChatRequest = {
    model: wire.model,
    messages: convertFromOpenAIMessages(wire.messages, wireOnly, files),
    stream: wire.stream === true,
  };
  // A speaker's `name` (a multi-party chat) has no canonical place: only the client's own body, sent
  // to an OpenAI-compatible target, carries it, and another target is told of it as left out.
  if (namesSpeakers(body)) approximated.push("messages[].name");
  const tools: ToolDefinition[] = [];
  const custom = new Set<string>();
  const names = new Set<string>();
  wire.tools?.forEach((tool, i) => {
    const name = tool.type === "custom" ? tool.custom.name : tool.function.name;
    // A custom tool and another of its name: a call of it could not say which was meant.
    if (names.has(name) && (tool.type === "custom" || custom.has(name))) {
      const at = `tools[${i}].${tool.type}.name`;
      throw new GatewayError("invalid_request", `Invalid value for '${at}': another tool is already named "${name}".`, {
        param: at,
      });
    }
    names.add(name);
    if (tool.type === "custom") {
      // A function taking one string, `input`; its calls go back as custom tool calls (custom-tools.ts).
      custom.add(name);
      tools.push(customToolDefinition(parseChatCustomTool(tool.custom, `tools[${i}].custom`)));
      return;
    }
    tools.push({
      name: tool.function.name,
      ...(tool.function.description != null && { description: tool.function.description }),
      // OpenAI treats a function without parameters as taking none.
      parameters: tool.function.parameters ?? { type: "object", properties: {} },
      ...(tool.function.strict != null && { strict: tool.function.strict }),
    });
  });
  if (tools.length > 0) chat.tools = tools;
  // The deprecated functions (never beside `tools`: checkLegacyMix), offered as tools are.
  const legacy = wire.functions != null;
  const functions = legacyTools(wire.functions ?? []);
  if (functions.length > 0) chat.tools = functions;
  if (wire.function_call != null) chat.toolChoice = legacyToolChoice(wire.function_call, functions);
  const choice = wire.tool_choice;
  if (choice != null && typeof choice !== "string" && choice.type === "custom") {
    // ChatCompletionNamedToolChoiceCustom: the function the custom tool is offered as.
    if (!custom.has(choice.custom.name)) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for 'tool_choice.custom.name': no custom tool is named "${choice.custom.name}".`,
        { param: "tool_choice.custom.name" },
      );
    }
    chat.toolChoice = { name: choice.custom.name };
  } else if (choice != null && typeof choice !== "string" && choice.type === "allowed_tools") {
    // The closest canonical form: only the allowed tools offered, with the mode as the choice.
    const allowed = new Set(choice.allowed_tools.tools.map(allowedName));
    const kept = tools.filter((t) => allowed.has(t.name));
    if (kept.length > 0) chat.tools = kept;
    else delete chat.tools;
    chat.toolChoice = choice.allowed_tools.mode;
    approximated.push(ALLOWED_TOOLS_APPROXIMATED);
  } else if (choice != null) chat.toolChoice = toolChoice(choice, tools, routeTools);
  if (wire.parallel_tool_calls != null) chat.parallelToolCalls = wire.parallel_tool_calls;
  // The legacy answer holds one call, as OpenAI's functions API makes one: every target is asked for one.
  if (functions.length > 0) chat.parallelToolCalls = false;
  if (wire.response_format != null) chat.responseFormat = responseFormat(wire.response_format);
  const maxTokens = wire.max_completion_tokens ?? wire.max_tokens;
  if (maxTokens != null) chat.maxTokens = maxTokens;
  copySamplingSettings(chat, wire);
  if (wire.top_logprobs != null && wire.logprobs !== true) {
    // As OpenAI: top_logprobs alone is refused, not ignored.
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
      { param: "top_logprobs" },
    );
  }
  if (wire.logprobs === true) chat.logprobs = logprobsRequest(wire.top_logprobs);
  // The Responses API has these too: a Responses-only target is sent them, others name them (ChatProvider.unsent).
  if (wire.prompt_cache_key != null) chat.promptCacheKey = wire.prompt_cache_key;
  if (wire.safety_identifier != null) chat.safetyIdentifier = wire.safety_identifier;
  // "auto", the default, asks for nothing a target could miss.
  if (wire.service_tier != null && wire.service_tier !== "auto") chat.serviceTier = wire.service_tier;
  if (wire.verbosity != null) chat.verbosity = wire.verbosity;
  const effort = wire.reasoning_effort;
  // A level a target's wire lacks (max on OpenAI's) goes as the nearest below it, named by its provider.
  if (effort != null) chat.reasoning = effort === "none" ? { enabled: false } : { enabled: true, effort };
  return {
    chat,
    includeUsage: chat.stream && wire.stream_options?.include_usage === true,
    wireOnly,
    approximated,
    custom,
    choices: wire.n ?? 1,
    legacyFunctions: legacy,
  };
}

/** The sampling and tracking fields chat and legacy completions share. */
export function copySamplingSettings(
  chat: ChatRequest,
  wire: {
    temperature?: number | null;
    top_p?: number | null;
    presence_penalty?: number | null;
    frequency_penalty?: number | null;
    stop?: string | string[] | null;
    seed?: number | null;
    user?: string | null;
  },
): void {
  if (wire.temperature != null) chat.temperature = wire.temperature;
  if (wire.top_p != null) chat.topP = wire.top_p;
  if (wire.presence_penalty != null) chat.presencePenalty = wire.presence_penalty;
  if (wire.frequency_penalty != null) chat.frequencyPenalty = wire.frequency_penalty;
  const stop = stopSequences(wire.stop);
  if (stop) chat.stop = stop;
  if (wire.seed != null) chat.seed = wire.seed;
  if (wire.user != null && wire.user !== "") chat.user = wire.user;
}

export function stopSequences(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop == null) return undefined;
  const list = (typeof stop === "string" ? [stop] : stop).filter((s) => s !== "");
  return list.length > 0 ? list : undefined;
}

type NamedChoice = Extract<NonNullable<ChatCompletionRequestBody["tool_choice"]>, { type: "function" }>;

/**
 * A choice the request's tools can satisfy. `required` or a named function with no tools is refused in OpenAI's
 * words (a target could only ignore it or fail), but for `required` of a route with tools of its own;
 * `auto` and `none` without tools mean nothing and are taken.
 */
function toolChoice(
  choice: "auto" | "none" | "required" | NamedChoice,
  tools: readonly ToolDefinition[],
  routeTools: boolean,
): ToolChoice {
  if (choice === "auto" || choice === "none" || (choice === "required" && routeTools)) return choice;
  if (tools.length === 0) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      { param: "tool_choice" },
    );
  }
  if (choice === "required") return choice;
  const name = choice.function.name;
  if (!tools.some((tool) => tool.name === name)) {
    throw new GatewayError(
      "invalid_request",
      `Invalid value for 'tool_choice.function.name': no function tool named '${name}' was given in tools.`,
      { param: "tool_choice.function.name" },
    );
  }
  return { name };
}

/** The name an `allowed_tools` entry names (`{type: "function", function: {name}}`, or a custom tool's). */
function allowedName(entry: Record<string, unknown>): string | undefined {
  const inner = (entry.function ?? entry.custom) as { name?: unknown } | undefined;
  return typeof inner?.name === "string" ? inner.name : undefined;
}

function responseFormat(format: NonNullable<ChatCompletionRequestBody["response_format"]>): ResponseFormat {
  switch (format.type) {
    case "text":
      return { type: "text" };
    case "json_object":
      return { type: "json" };
    case "json_schema": {
      const spec = format.json_schema;
      const schema = spec.schema ?? {};
      checkResponseSchema(schema, "response_format");
      return {
        type: "json_schema",
        schema,
        name: spec.name,
        ...(spec.strict != null && { strict: spec.strict }),
        param: "response_format",
      };
    }
  }
}

/**
 * A system, developer, user or assistant message of the body names its speaker (`name`). A tool or
 * legacy function message's name is the tool's, which every wire carries.
 */
function namesSpeakers(body: unknown): boolean {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return false;
  return messages.some((m: { role?: unknown; name?: unknown } | null) => {
    if (typeof m !== "object" || m === null) return false;
    return m.role !== "tool" && m.role !== "function" && typeof m.name === "string" && m.name !== "";
  });
}
