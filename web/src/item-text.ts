import type { ChatMessage, StateItem } from "./wire.js";

/**
 * What the State view shows of an item or a chat message: a label (who or what) and its text. Only
 * text: the console renders both as text nodes, never as HTML, whatever a model or a client wrote.
 */
export interface ItemText {
  /** The item's type as the server sent it (a `data-item-type` for tests and styles). */
  type: string;
  label: string;
  text: string;
}

/** The most characters shown of one item: a long tool output is cut, saying so. */
export const ITEM_TEXT_CHARS = 20_000;

/** A Responses API item as text: messages, tool calls and their outputs, reasoning summaries, and the rest as JSON. */
export function itemText(item: StateItem): ItemText {
  const type = String(item.type);
  switch (type) {
    case "message":
      return { type, label: String(item.role ?? "message"), text: bounded(partsText(item.content)) };
    case "function_call":
    case "custom_tool_call":
      return { type, label: `tool call: ${String(item.name)}`, text: bounded(String(item.arguments ?? item.input ?? "")) };
    case "function_call_output":
    case "custom_tool_call_output":
      return { type, label: `tool output (${String(item.call_id)})`, text: bounded(partsText(item.output)) };
    case "reasoning": {
      const summary = partsText(item.summary);
      return { type, label: "reasoning summary", text: summary === "" ? "(no summary kept)" : bounded(summary) };
    }
    case "mcp_call": {
      const output = item.error !== undefined && item.error !== null ? mcpErrorText(item.error) : item.output;
      return {
        type,
        label: `MCP tool call: ${String(item.server_label)}/${String(item.name)}`,
        text: bounded(
          `${String(item.arguments ?? "")}${output === undefined || output === null ? "" : `\n→ ${partsText(output)}`}`,
        ),
      };
    }
    default: {
      const { id: _id, type: _type, ...rest } = item;
      return { type, label: type, text: bounded(JSON.stringify(rest, null, 1)) };
    }
  }
}

/** A chat message (a stored completion's request or answer) as text, its tool calls each on a line. */
export function chatMessageText(message: ChatMessage): ItemText {
  const role = String(message.role ?? "message");
  const lines: string[] = [];
  const content = partsText(message.content);
  if (content !== "") lines.push(content);
  if (typeof message.refusal === "string" && message.refusal !== "") lines.push(`[refusal] ${message.refusal}`);
  for (const call of message.tool_calls ?? []) {
    lines.push(`tool call: ${String(call.function?.name)}(${String(call.function?.arguments ?? "")})`);
  }
  const label = role === "tool" && message.tool_call_id !== undefined ? `tool output (${message.tool_call_id})` : role;
  return { type: role === "tool" ? "function_call_output" : "message", label, text: bounded(lines.join("\n")) };
}

/**
 * The text of a content: a string as it is; an array's text parts (input_text, output_text, text,
 * summary_text, refusal) joined by blank lines, with a marker for each image, file or audio part.
 */
/** An `mcp_call`'s error: text (older items), or the API's McpToolCallError object (a tool's content, or a code and message). */
function mcpErrorText(error: unknown): string {
  if (typeof error === "string" || error === null || typeof error !== "object") return partsText(error);
  const { type, code, message, content } = error as Record<string, unknown>;
  if (type === "mcp_tool_execution_error") return `[tool error] ${partsText(content)}`;
  const kind = type === "http_error" ? "HTTP error" : type === "mcp_protocol_error" ? "MCP protocol error" : "error";
  return `[${kind}${typeof code === "number" ? ` ${code}` : ""}] ${typeof message === "string" ? message : JSON.stringify(error)}`;
}

function partsText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? "" : JSON.stringify(content);
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === "string") {
      texts.push(part);
      continue;
    }
    const { type, text, refusal, filename } = (part ?? {}) as Record<string, unknown>;
    if (typeof text === "string") texts.push(text);
    else if (typeof refusal === "string") texts.push(`[refusal] ${refusal}`);
    else if (type === "input_image" || type === "image_url") texts.push("[image]");
    else if (type === "input_file" || type === "file") texts.push(`[file${typeof filename === "string" ? `: ${filename}` : ""}]`);
    else texts.push(`[${String(type)}]`);
  }
  return texts.join("\n\n");
}

function bounded(text: string): string {
  return text.length <= ITEM_TEXT_CHARS ? text : `${text.slice(0, ITEM_TEXT_CHARS)}… (cut: ${text.length} characters in all)`;
}
