import { type ContentPart, type FilePart, fileAsText, joinPart, type TextPart } from "./messages.js";
import type { ChatRequest } from "./request.js";

/**
 * A file part as text, for a target that cannot read the document itself: its name and its text, or
 * `undefined` when it has no text (then it cannot cross, and the provider names it: unreadFiles).
 */
export function filePartAsText(part: FilePart): TextPart | undefined {
  return part.text === undefined ? undefined : { type: "text", text: fileAsText(part.filename, part.text) };
}

/** Whether the request carries any file part (most carry none: the walk costs nothing then). */
export function hasFileParts(request: ChatRequest): boolean {
  for (const message of request.messages) {
    if (message.role !== "system" && message.content.some((p) => p.type === "file")) return true;
  }
  return false;
}

/** How many file parts the request carries. */
export function countFileParts(request: ChatRequest): number {
  let count = 0;
  for (const message of request.messages) {
    if (message.role === "system") continue;
    for (const part of message.content) if (part.type === "file") count++;
  }
  return count;
}

/**
 * The file parts a target cannot be given (`readable` says which media types it reads as they
 * are; the others go as their text), each named for `x-tandem-warnings`: `file "scan.pdf"
 * (application/pdf, no text to give)`.
 */
export function unreadFiles(request: ChatRequest, readable: (mediaType: string) => boolean): string[] {
  const out: string[] = [];
  if (!hasFileParts(request)) return out;
  for (const message of request.messages) {
    if (message.role === "system") continue;
    for (const part of message.content as ContentPart[]) {
      if (part.type !== "file" || readable(part.mediaType) || part.text !== undefined) continue;
      out.push(`file ${JSON.stringify(part.filename ?? "file")} (${part.mediaType}, no text this target can read)`);
    }
  }
  return out;
}

/** A file part's bytes as a `data:` URL (OpenAI's `file_data`). */
export function fileDataUrl(part: FilePart): string {
  return `data:${part.mediaType};base64,${part.data}`;
}

/**
 * Text of the text parts and of the files that have text, a blank line between parts (as textOf): for
 * wires whose message holds only text (a tool result, an Ollama message).
 */
export function textWithFiles(parts: readonly ContentPart[]): string {
  let out = "";
  for (const part of parts) {
    if (part.type === "text") out = joinPart(out, part.text);
    else if (part.type === "file") out = joinPart(out, filePartAsText(part)?.text ?? "");
  }
  return out;
}
