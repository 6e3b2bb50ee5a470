/** Canonical conversation content. Every dialect parses into these and every provider reads them. */

export type ImageSource = { kind: "url"; url: string } | { kind: "base64"; mediaType: string; data: string };

export type TextPart = { type: "text"; text: string };
export type ImagePart = { type: "image"; source: ImageSource; detail?: "auto" | "low" | "high" };
export type ContentPart = TextPart | ImagePart;

/** A tool call made by the assistant. `arguments` is the raw JSON text the model produced. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface SystemMessage {
  role: "system";
  content: string;
}

export interface UserMessage {
  role: "user";
  content: ContentPart[];
}

export interface AssistantMessage {
  role: "assistant";
  content: ContentPart[];
  toolCalls?: ToolCall[];
}

/** The result of one tool call, answering the assistant's call with the same id. */
export interface ToolMessage {
  role: "tool";
  toolCallId: string;
  /** The tool's name when the wire carries it (Ollama needs it, OpenAI/Anthropic do not). */
  name?: string;
  content: ContentPart[];
  isError?: boolean;
}

export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** Joins the text parts of a content array (images are dropped). */
export function textOf(parts: readonly ContentPart[]): string {
  let out = "";
  for (const p of parts) if (p.type === "text") out += p.text;
  return out;
}
