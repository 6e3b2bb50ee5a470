/** Canonical conversation content. Every dialect parses into these and every provider reads them. */

export type ImageSource = { kind: "url"; url: string } | { kind: "base64"; mediaType: string; data: string };

export type TextPart = { type: "text"; text: string };
/** OpenAI's image detail; `original` (full resolution, no downscaling) is openai-node 7's for chat, and the Responses API's. */
export type ImageDetail = "auto" | "low" | "high" | "original";
export type ImagePart = {
  type: "image";
  source: ImageSource;
  detail?: ImageDetail;
  /**
   * The image is of an earlier turn tandem keeps (a stored Responses history), not of the request's
   * own input: a target that reads no images is given the conversation without it, named in
   * x-tandem-warnings (history-images.ts), where an image of the request's own makes it refuse. A
   * conversation is not locked out of text-only targets by an image sent once. Default: the request's own.
   */
  fromHistory?: true;
};
/**
 * A document given whole (a PDF, a Word file...), shaped after the Vercel AI SDK's file part
 * (`mediaType`, `data`, `filename`). Text files and images are given as text and image parts; this
 * is for what some targets read as it is (Anthropic `document` blocks, OpenAI `file` parts, Responses
 * `input_file`) and others only as its text. Each provider renders it: the document where its wire
 * takes the type, else `text` (named in `x-tandem-warnings` when there is none).
 */
export type FilePart = {
  type: "file";
  mediaType: string;
  /** The bytes, base64. */
  data: string;
  filename?: string;
  /**
   * The document's text (a PDF's, extracted), for targets that cannot read the document, for
   * privacy classification and redaction; absent when it has none that can be read.
   */
  text?: string;
};
export type ContentPart = TextPart | ImagePart | FilePart;

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
  /**
   * Calls must follow `parameters` exactly (OpenAI's function.strict, Anthropic's tool strict). A
   * target whose API has no such setting names it in `x-tandem-warnings` when it is true.
   */
  strict?: boolean;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

/**
 * A file's text as a model is given it in place of the file: its name, then its text, so a model
 * knows where one file ends and what it was called.
 */
export function fileAsText(filename: string | undefined, text: string): string {
  return `<file name=${JSON.stringify(filename ?? "file")}>\n${text}\n</file>`;
}

/**
 * What goes between two parts of one message joined into one string, as between system blocks: each
 * part is a block of its own (a document and the question about it, an agent's reminder after the
 * user's text), and a model reads where one ends only if something says so.
 */
export const PART_SEPARATOR = "\n\n";

/** `text` after `joined`, a blank line (PART_SEPARATOR) between them unless either is empty. */
export function joinPart(joined: string, text: string): string {
  if (text === "") return joined;
  return joined === "" ? text : `${joined}${PART_SEPARATOR}${text}`;
}

/**
 * The text parts of a content array as one string, a blank line between parts (images and files are
 * dropped), for a wire whose message holds one string.
 */
export function textOf(parts: readonly ContentPart[]): string {
  let out = "";
  for (const p of parts) if (p.type === "text") out = joinPart(out, p.text);
  return out;
}
