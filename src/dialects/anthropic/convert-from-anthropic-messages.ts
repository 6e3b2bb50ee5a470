import {
  type ChatRequest,
  type ContentPart,
  GatewayError,
  type Message,
  type ReasoningPart,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from "../../core/index.js";
import type { ContentBlock, MessageParam, MessagesRequest } from "./messages-api.js";

type ImageBlock = Extract<ContentBlock, { type: "image" }>;

/** Turns a validated Anthropic Messages request into the canonical request. */
export function convertFromAnthropicRequest(body: MessagesRequest): ChatRequest {
  const messages: Message[] = [];
  // System blocks become one system message: some local chat templates reject several.
  const system = (body.system ?? []).map((block) => block.text).join("\n\n");
  if (system) messages.push({ role: "system", content: system });
  body.messages.forEach((message, i) => {
    messages.push(...convertMessage(message, i));
  });

  const chat: ChatRequest = { model: body.model, messages, stream: body.stream === true };
  if (body.max_tokens != null) chat.maxTokens = body.max_tokens;
  if (body.tools && body.tools.length > 0) chat.tools = body.tools.map(convertTool);
  if (body.tool_choice) {
    const choice = body.tool_choice;
    chat.toolChoice = convertToolChoice(choice);
    if ("disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use === true) chat.parallelToolCalls = false;
  }
  if (body.stop_sequences && body.stop_sequences.length > 0) chat.stop = body.stop_sequences;
  if (body.temperature != null) chat.temperature = body.temperature;
  if (body.top_p != null) chat.topP = body.top_p;
  if (body.top_k != null) chat.topK = body.top_k;
  if (body.metadata?.user_id != null) chat.user = body.metadata.user_id;
  const format = body.output_config?.format;
  if (format) chat.responseFormat = { type: "json_schema", schema: format.schema };
  if (body.thinking && body.thinking.type !== "adaptive") {
    chat.reasoning =
      body.thinking.type === "enabled" ? { enabled: true, budgetTokens: body.thinking.budget_tokens } : { enabled: false };
  }
  return chat;
}

function convertMessage(message: MessageParam, i: number): Message[] {
  const at = (j: number) => `messages[${i}].content[${j}]`;
  if (message.role === "system") {
    // A system turn in the conversation: its text, in place (each target then has it in the
    // closest form it knows: a system message where it stands, or Anthropic's system prompt).
    const text = message.content.map((block, j) => {
      if (block.type !== "text") throw invalid(`${at(j)}.type`, "a system message holds text blocks only");
      return block.text;
    });
    return [{ role: "system", content: text.join("\n\n") }];
  }
  if (message.role === "assistant") {
    const content: ContentPart[] = [];
    const reasoning: ReasoningPart[] = [];
    const toolCalls: ToolCall[] = [];
    message.content.forEach((block, j) => {
      switch (block.type) {
        case "text":
          content.push({ type: "text", text: block.text });
          break;
        case "image":
          content.push(convertImage(block));
          break;
        case "tool_use":
          toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
          break;
        case "tool_result":
          throw invalid(`${at(j)}.type`, "tool_result blocks belong in a user message");
        case "thinking":
          // A signature is Anthropic's (its producer unknown here); "" is one tandem rendered for another provider's reasoning.
          reasoning.push({
            type: "reasoning",
            text: block.thinking ?? "",
            ...(block.signature ? { signature: block.signature } : {}),
          });
          break;
        case "redacted_thinking":
          if (block.data) reasoning.push({ type: "reasoning", text: "", redactedData: block.data });
          break;
      }
    });
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
        content.push(convertImage(block));
        break;
      case "tool_result":
        out.push({
          role: "tool",
          toolCallId: block.tool_use_id,
          content: (block.content ?? []).map((part) =>
            part.type === "text" ? { type: "text", text: part.text } : convertImage(part),
          ),
          ...(block.is_error === true ? { isError: true } : {}),
        });
        break;
      case "tool_use":
        throw invalid(`${at(j)}.type`, "tool_use blocks belong in an assistant message");
      case "thinking":
      case "redacted_thinking":
        break;
    }
  });
  if (content.length > 0 || out.length === 0) out.push({ role: "user", content });
  return out;
}

function convertImage(block: ImageBlock): ContentPart {
  const source = block.source;
  return source.type === "base64"
    ? { type: "image", source: { kind: "base64", mediaType: source.media_type, data: source.data } }
    : { type: "image", source: { kind: "url", url: source.url } };
}

function convertTool(tool: { name: string; description?: string | null; input_schema?: Record<string, unknown> | null }) {
  const def: ToolDefinition = { name: tool.name, parameters: tool.input_schema ?? { type: "object" } };
  if (tool.description != null) def.description = tool.description;
  return def;
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

function invalid(param: string, reason: string): GatewayError {
  return new GatewayError("invalid_request", `Invalid value for '${param}': ${reason}`, { param });
}
