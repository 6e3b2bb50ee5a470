import { textWithFiles } from "./file-parts.js";
import type { ToolMessage } from "./messages.js";

/**
 * A tool result as the one string of a wire whose tool messages have no error flag (OpenAI's chat
 * and Responses APIs, Ollama's): its text and its files' text, a blank line apart, and for a call
 * that failed (an Anthropic client's `is_error`, tandem's own mended result for a call without one)
 * that text after "Error: ", so the model reads that the call failed rather than taking the message
 * for the tool's output. One helper for every such wire, so a failure reads the same to whichever
 * model answers next.
 */
export function toolResultText(message: ToolMessage): string {
  const text = textWithFiles(message.content);
  return message.isError ? `Error: ${text}` : text;
}
