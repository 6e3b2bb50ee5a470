import type {
  ChatRequest,
  ContentPart,
  Message,
  ReasoningEffort,
  ReasoningPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  WireOnly,
  WrittenMessageValue,
} from "../../core/index.js";
import { callArgumentsText, checkResponseSchema, GatewayError, toolCallId, writtenMessageValues } from "../../core/index.js";
import { invalidValue } from "../shared/index.js";
import { checkAnthropicTurns } from "./check-anthropic-turns.js";
import type { ContentBlock, MessageParam, MessagesRequest, ToolChangeBlock } from "./messages-api.js";
import { isSealedSignature, sealedReasoning } from "./sealed-signature.js";
import type { ThinkingDisplay } from "./thinking-display.js";

type ImageBlock = Extract<ContentBlock, { type: "image" }>;
type DocumentBlock = Extract<ContentBlock, { type: "document" }>;
type SearchResultBlock = Extract<ContentBlock, { type: "search_result" }>;

/**
 * What of a request the canonical form cannot carry, filled by convertFromAnthropicRequest:
 * `wireOnly` for an Anthropic target only (NativeRequest.wireOnly), `approximated` what crosses to
 * another wire only as its closest canonical form (named in `x-tandem-warnings`).
 */
export interface AnthropicLeftovers {
  wireOnly: WireOnly[];
  approximated: Set<string>;
}

/** Turns a validated Anthropic Messages request into the canonical request. */
export function convertFromAnthropicRequest(
  body: MessagesRequest,
  left: AnthropicLeftovers = { wireOnly: [], approximated: new Set() },
  /** The model is a route with tools of its own, which `any` without the request's tools may call (routeToolsAnswerChoice). */
  routeTools = false,
  /** The body's values as the client wrote them: a history call's `input` keeps its digits (see callArgumentsText). */
  written: WrittenMessageValue = writtenMessageValues(undefined),
): ChatRequest {
  checkAnthropicTurns(body.messages);
  const messages: Message[] = [];
  /** The tool ids as the client wrote them, by the canonical id each is read as (ChatRequest.anthropicToolIds). */
  const clientIds = new Map<string, string>();
  const readId = (clientId: string): string => {
    const id = toolCallId(clientId);
    if (!clientIds.has(id)) clientIds.set(id, clientId);
    return id;
  };
  // System blocks become one system message: some local chat templates reject several.
  const system = (body.system ?? []).map((block) => block.text).join("\n\n");
  if (system) messages.push({ role: "system", content: system });
  let lastUser = -1;
  body.messages.forEach((m, i) => {
    if (m.role === "user") lastUser = i;
  });
  body.messages.forEach((message, i) => {
    if (message.clear_at != null && message.role !== "system") {
      throw invalidValue(`messages[${i}].clear_at`, "clear_at is permitted on system messages only");
    }
    // A system turn cleared at the next user turn is no longer shown once one follows it.
    if (message.clear_at === "next_user_message" && i < lastUser) return;
    messages.push(...convertMessage(message, i, left, written, readId));
  });

  const chat: ChatRequest = { model: body.model, messages, stream: body.stream === true };
  if (clientIds.size > 0) chat.anthropicToolIds = clientIds;
  if (body.max_tokens != null) chat.maxTokens = body.max_tokens;
  const tools = offeredTools(body, left);
  if (tools.length > 0) chat.tools = tools;
  if (body.tool_choice) {
    const choice = body.tool_choice;
    checkToolChoice(choice, body.tools ?? [], routeTools);
    chat.toolChoice = convertToolChoice(choice);
    if ("disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use === true) chat.parallelToolCalls = false;
  }
  if (body.stop_sequences && body.stop_sequences.length > 0) chat.stop = body.stop_sequences;
  if (body.temperature != null) chat.temperature = body.temperature;
  if (body.top_p != null) chat.topP = body.top_p;
  if (body.top_k != null) chat.topK = body.top_k;
  if (body.metadata?.user_id != null) chat.user = body.metadata.user_id;
  const format = body.output_config?.format;
  // Anthropic's structured outputs always hold the answer to the schema: strict wherever a target can be.
  if (format) {
    checkResponseSchema(format.schema, "output_config.format");
    chat.responseFormat = { type: "json_schema", schema: format.schema, strict: "where-possible", param: "output_config.format" };
  }
  if (body.thinking?.type === "enabled" || body.thinking?.type === "disabled") {
    chat.reasoning =
      body.thinking.type === "enabled" ? { enabled: true, budgetTokens: body.thinking.budget_tokens } : { enabled: false };
  } else {
    const effort = effortControl(body);
    if (effort !== undefined) chat.reasoning = { enabled: true, adaptive: true, effort };
  }
  return chat;
}

/** The effort levels of Anthropic's `output_config.effort`, each a canonical level. */
const ANTHROPIC_EFFORTS: ReadonlySet<string> = new Set(["low", "medium", "high", "xhigh", "max"]);

/**
 * The effort that is a request's reasoning control: `output_config.effort` with adaptive thinking (or
 * none asked), where the model decides, at that effort (see ReasoningControl.adaptive). Undefined
 * beside `thinking` enabled or disabled, or for an effort of no known level. anthropicLost reads the
 * same to tell whether the effort crossed.
 */
export function effortControl(body: {
  thinking?: { type?: unknown } | null;
  output_config?: { effort?: unknown } | null;
}): ReasoningEffort | undefined {
  const type = body.thinking?.type;
  if (type === "enabled" || type === "disabled") return undefined;
  const effort = body.output_config?.effort;
  return typeof effort === "string" && ANTHROPIC_EFFORTS.has(effort) ? (effort as ReasoningEffort) : undefined;
}

/**
 * The tools the model may call on the next turn, as Anthropic works them out: the request's custom
 * tools, less the deferred ones (`defer_loading`) until a tool search loads them (a tool_reference
 * block in a tool result) or `tool_choice` names one, with the conversation's tool changes
 * (`tool_addition`, `tool_removal`: the mid-conversation tool changes beta) applied in order. Another
 * wire has one tool list for the whole request: the tools as they stand at the end.
 */
function offeredTools(body: MessagesRequest, left: AnthropicLeftovers): ToolDefinition[] {
  const defined = new Map<string, ToolDefinition>();
  const offered = new Set<string>();
  body.tools?.forEach((tool, i) => {
    if (tool.type != null && tool.type !== "custom") {
      left.wireOnly.push({ param: `tools[${i}]`, what: `Anthropic's ${tool.type} tool` });
    } else if (tool.name != null) {
      defined.set(tool.name, convertTool({ ...tool, name: tool.name }));
      if (tool.defer_loading !== true) offered.add(tool.name);
    }
  });
  body.messages.forEach((message, i) => {
    message.content.forEach((block, j) => {
      if (block.type === "tool_result") {
        for (const part of block.content ?? []) if (part.type === "tool_reference") offered.add(part.tool_name);
      } else if (isToolChange(block)) {
        applyToolChange(block, `messages[${i}].content[${j}]`, { defined, offered, left });
      }
    });
  });
  if (body.tool_choice?.type === "tool") offered.add(body.tool_choice.name);
  return [...offered].flatMap((name) => defined.get(name) ?? []);
}

function isToolChange(block: ContentBlock): block is ToolChangeBlock {
  return block.type === "tool_addition" || block.type === "tool_removal";
}

/** A turn that only changes the tools (it has nothing of its own for another wire). */
function onlyToolChanges(message: MessageParam): boolean {
  return message.content.length > 0 && message.content.every(isToolChange);
}

function applyToolChange(
  block: ToolChangeBlock,
  at: string,
  tools: { defined: Map<string, ToolDefinition>; offered: Set<string>; left: AnthropicLeftovers },
): void {
  const { tool } = block;
  if (tool.type === "tool_reference" && tool.name != null) {
    if (block.type === "tool_addition") tools.offered.add(tool.name);
    else tools.offered.delete(tool.name);
  } else if (tool.type === "tool_definition" && block.type === "tool_addition" && isCustomTool(tool.definition)) {
    const { name, description, input_schema, strict } = tool.definition;
    tools.defined.set(name, convertTool({ name, description, input_schema, strict }));
    tools.offered.delete(name);
    tools.offered.add(name);
  } else {
    tools.left.wireOnly.push({ param: at, what: `a ${block.type} block of ${tool.type}` });
    return;
  }
  tools.left.approximated.add("tool_addition and tool_removal blocks (the tools offered as they stand at the end)");
}

function isCustomTool(definition: Record<string, unknown> | null | undefined): definition is {
  name: string;
  description?: string | null;
  input_schema?: Record<string, unknown> | null;
  strict?: unknown;
} {
  if (definition == null || typeof definition.name !== "string") return false;
  return (definition.type == null || definition.type === "custom") && typeof definition.input_schema === "object";
}

/**
 * How the answer shows the model's thinking (see ThinkingDisplay), as Anthropic's does: `off` unless
 * the client turned thinking on (`enabled`, or `adaptive` and `between_tools`, where the model decides
 * when to think); `omitted` when it asked for it `display: "omitted"`. A reasoning upstream such as
 * DeepSeek, or a local thinking model, shows its reasoning whatever it is asked: without this, it is
 * not shown.
 */
export function thinkingDisplay(thinking: MessagesRequest["thinking"]): ThinkingDisplay {
  if (!thinking || thinking.type === "disabled") return "off";
  return "display" in thinking && thinking.display === "omitted" ? "omitted" : "shown";
}

function convertMessage(
  message: MessageParam,
  i: number,
  left: AnthropicLeftovers,
  written: WrittenMessageValue,
  /** A tool_use / tool_result id as the canonical request carries it (toolCallId), kept as written. */
  readId: (clientId: string) => string,
): Message[] {
  const at = (j: number) => `messages[${i}].content[${j}]`;
  /** A block of the client's that has no canonical form: left out of it, for an Anthropic target only. */
  const opaque = (j: number, type: string, what = `a ${type} block`) => left.wireOnly.push({ param: at(j), what });
  if (message.role === "system") {
    // A system turn in the conversation: its text, in place (each target then has it in the
    // closest form it knows: a system message where it stands, or Anthropic's system prompt).
    const text = message.content.flatMap((block, j) => {
      // Tool changes are read with the tools (offeredTools).
      if (isToolChange(block)) return [];
      if (block.type !== "text") {
        throw invalidValue(`${at(j)}.type`, "a system message holds text, tool_addition and tool_removal blocks only");
      }
      return [block.text];
    });
    return text.length > 0 ? [{ role: "system", content: text.join("\n\n") }] : [];
  }
  if (message.role === "assistant") {
    const content: ContentPart[] = [];
    const reasoning: ReasoningPart[] = [];
    const toolCalls: ToolCall[] = [];
    message.content.forEach((block, j) => {
      switch (block.type) {
        case "text":
          content.push({ type: "text", text: block.text });
          if (Array.isArray(block.citations) && block.citations.length > 0)
            left.approximated.add("citations (the cited text's sources left out)");
          break;
        case "image":
        case "document":
        case "search_result":
          content.push(...convertPart(block, at(j), left));
          break;
        case "tool_use":
          toolCalls.push({
            id: readId(block.id),
            name: block.name,
            arguments: callArgumentsText(block.input ?? {}, written(i, ["content", j, "input"])),
          });
          break;
        case "tool_result":
          throw invalidValue(`${at(j)}.type`, "tool_result blocks belong in a user message");
        case "thinking":
          // A signature is Anthropic's (its producer unknown here); "" is one tandem rendered for
          // another provider's reasoning, and a sealed one carries that provider's sealed reasoning.
          if (block.signature && isSealedSignature(block.signature))
            reasoning.push(sealedReasoning(block.thinking ?? "", block.signature));
          else
            reasoning.push({
              type: "reasoning",
              text: block.thinking ?? "",
              ...(block.signature ? { signature: block.signature } : {}),
            });
          break;
        case "redacted_thinking":
          if (block.data) reasoning.push({ type: "reasoning", text: "", redactedData: block.data });
          break;
        case "tool_addition":
        case "tool_removal":
          break; // read with the tools (offeredTools)
        case "tandem.unknown_block":
          opaque(j, block.block_type);
          break;
        default:
          opaque(j, block.type);
      }
    });
    if (onlyToolChanges(message)) return [];
    return [
      {
        role: "assistant",
        content,
        ...(reasoning.length > 0 && { reasoning }),
        ...(toolCalls.length > 0 && { toolCalls }),
      },
    ];
  }

  // A user turn answers the previous assistant's tool calls first (Anthropic requires tool_result
  // blocks to lead), then carries the user's own text and images.
  const out: Message[] = [];
  const content: ContentPart[] = [];
  message.content.forEach((block, j) => {
    switch (block.type) {
      case "text":
        content.push({ type: "text", text: block.text });
        break;
      case "image":
      case "document":
      case "search_result":
        content.push(...convertPart(block, at(j), left));
        break;
      case "tool_result":
        out.push({
          role: "tool",
          toolCallId: readId(block.tool_use_id),
          content: (block.content ?? []).flatMap((part, k): ContentPart[] => {
            if (part.type === "text") return [{ type: "text", text: part.text }];
            if (part.type === "tool_reference") {
              left.approximated.add("tool_reference blocks (the tools they load offered, a line of text in their place)");
              return [{ type: "text", text: `Tool ${part.tool_name} loaded: it can be called now.` }];
            }
            if (part.type === "image" || part.type === "document" || part.type === "search_result") {
              return convertPart(part, `${at(j)}.content[${k}]`, left);
            }
            const type = part.type === "tandem.unknown_block" ? part.block_type : part.type;
            left.wireOnly.push({ param: `${at(j)}.content[${k}]`, what: `a ${type} block` });
            return [];
          }),
          ...(block.is_error === true ? { isError: true } : {}),
        });
        break;
      case "tool_use":
        throw invalidValue(`${at(j)}.type`, "tool_use blocks belong in an assistant message");
      case "thinking":
      case "redacted_thinking":
      case "tool_addition":
      case "tool_removal":
        break; // tool changes are read with the tools (offeredTools)
      case "tandem.unknown_block":
        opaque(j, block.block_type);
        break;
      default:
        opaque(j, block.type);
    }
  });
  if (content.length > 0 || (out.length === 0 && !onlyToolChanges(message))) out.push({ role: "user", content });
  return out;
}

/**
 * An image, document or search result as canonical parts: an image as itself, a text document or a
 * search result as its text (so privacy reads it, and another wire gets the closest form), a PDF or an
 * uploaded file as nothing (it reaches an Anthropic target only).
 */
function convertPart(block: ImageBlock | DocumentBlock | SearchResultBlock, at: string, left: AnthropicLeftovers): ContentPart[] {
  if (block.type === "search_result") {
    left.approximated.add("search_result blocks (their text sent instead)");
    const text = block.content.map((part) => part.text).join("\n\n");
    return [{ type: "text", text: `${block.title} (${block.source})\n\n${text}` }];
  }
  if (block.type === "image") {
    if (block.source.type === "file") {
      left.wireOnly.push({ param: at, what: "an image from an uploaded file" });
      return [];
    }
    return [convertImage(block.source)];
  }
  const source = block.source;
  let parts: ContentPart[];
  if (source.type === "text") parts = [{ type: "text", text: source.data }];
  else if (source.type === "content") {
    parts = source.content.flatMap((part, k): ContentPart[] =>
      part.type === "text" ? [{ type: "text", text: part.text }] : convertPart(part, `${at}.source.content[${k}]`, left),
    );
  } else {
    left.wireOnly.push({
      param: at,
      what: source.type === "file" ? "a document from an uploaded file" : "a PDF document",
      // A PDF's bytes inline cannot be read for privacy; an uploaded file's id or a URL sends none.
      ...(source.type === "base64" && { unread: true as const }),
    });
    return [];
  }
  left.approximated.add("document blocks (their text sent instead)");
  const heading = [block.title, block.context].filter((line) => line != null && line !== "").join("\n");
  return heading ? [{ type: "text", text: heading }, ...parts] : parts;
}

function convertImage(source: Exclude<ImageBlock["source"], { type: "file" }>): ContentPart {
  return source.type === "base64"
    ? { type: "image", source: { kind: "base64", mediaType: source.media_type, data: source.data } }
    : { type: "image", source: { kind: "url", url: source.url } };
}

function convertTool(tool: {
  name: string;
  description?: string | null;
  input_schema?: Record<string, unknown> | null;
  strict?: unknown;
}) {
  const def: ToolDefinition = { name: tool.name, parameters: tool.input_schema ?? { type: "object" } };
  if (tool.description != null) def.description = tool.description;
  if (typeof tool.strict === "boolean") def.strict = tool.strict;
  return def;
}

/**
 * A forced choice the request's tools can satisfy, as Anthropic checks it (its words for one without
 * tools), or `any` of a route with tools of its own; `auto` and `none` without tools ask nothing a
 * target could fail, and are taken.
 */
function checkToolChoice(
  choice: NonNullable<MessagesRequest["tool_choice"]>,
  tools: NonNullable<MessagesRequest["tools"]>,
  routeTools: boolean,
): void {
  if ((choice.type !== "any" && choice.type !== "tool") || (choice.type === "any" && routeTools)) return;
  if (tools.length === 0) {
    throw new GatewayError("invalid_request", `tool_choice.${choice.type} may only be specified while providing tools`, {
      param: "tool_choice",
    });
  }
  if (choice.type === "tool" && !tools.some((tool) => tool.name === choice.name)) {
    throw invalidValue("tool_choice.name", `no tool named '${choice.name}' was given in tools`);
  }
}

function convertToolChoice(choice: NonNullable<MessagesRequest["tool_choice"]>): ToolChoice {
  switch (choice.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { name: choice.name };
  }
}
