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

/**
 * The model's reasoning in an earlier assistant turn (Anthropic thinking, `reasoning_content`, Ollama
 * `thinking`, a Responses reasoning item). Its opaque fields can be read only by the upstream that
 * made them: `producer` names it when tandem knows (the target, `provider/model`); absent, they came
 * from a client on the wire whose field they are (a `signature` from an Anthropic client, say).
 */
export interface ReasoningPart {
  type: "reasoning";
  /** The readable reasoning; "" for a redacted block. */
  text: string;
  /** Anthropic's signature of a thinking block (an Anthropic upstream refuses a thinking block without a valid one). */
  signature?: string;
  /** Anthropic's redacted_thinking `data` (then text is ""). */
  redactedData?: string;
  /** A Responses reasoning item's `encrypted_content`. */
  encryptedContent?: string;
  /** The target (`provider/model`) that made the opaque fields, when known. */
  producer?: string;
}

export interface AssistantMessage {
  role: "assistant";
  content: ContentPart[];
  /**
   * The turn's reasoning, in order, before its content (where every wire puts it). Kept apart from
   * `content` because only an assistant turn has it and most of the code reads only the answer.
   */
  reasoning?: ReasoningPart[];
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
