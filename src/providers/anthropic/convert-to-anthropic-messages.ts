import { argumentsObject, type ContentPart, filePartAsText, type Message } from "../../core/index.js";
import type {
  AnthropicAssistantBlock,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicTextBlock,
  AnthropicUserBlock,
} from "./anthropic-api.js";

export interface AnthropicPrompt {
  /** The system messages, lifted out of the conversation and joined (see convertToAnthropicMessages). */
  system: string | undefined;
  messages: AnthropicMessageParam[];
}

/**
 * Canonical messages -> Anthropic's `system` + `messages`. Anthropic requires user and assistant
 * turns to alternate and tool results to travel as tool_result blocks inside a user turn, so tool
 * messages become tool_result blocks and consecutive turns of one role are merged into one (tool
 * results first, as Anthropic requires). It also rejects empty or whitespace-only text blocks, empty
 * turns and a final assistant turn ending in whitespace; those are dropped or trimmed rather than sent
 * to fail.
 *
 * System messages join the system prompt, which every Anthropic-compatible server takes, except
 * those after the conversation's last assistant turn with nothing but system turns after them: in
 * the system prompt they would leave that assistant turn last, which Anthropic continues as a
 * prefill instead of answering. They stay where they stand, as system turns (SystemMessageParam).
 */
export function convertToAnthropicMessages(
  messages: readonly Message[],
  /** The tool ids as an Anthropic client wrote them, by canonical id (ChatRequest.anthropicToolIds). */
  clientIds?: ReadonlyMap<string, string>,
): AnthropicPrompt {
  const system: string[] = [];
  const out: AnthropicMessageParam[] = [];
  const trailing = trailingSystemTurns(messages);
  const toolUseId = toolUseIds(messages, clientIds);

  const push = (turn: AnthropicMessageParam) => {
    if (turn.content.length === 0) return;
    const last = out.at(-1);
    if (last?.role === "user" && turn.role === "user") last.content.push(...turn.content);
    else if (last?.role === "assistant" && turn.role === "assistant") last.content.push(...turn.content);
    else out.push(turn);
  };

  for (const [i, message] of messages.entries()) {
    switch (message.role) {
      case "system":
        if (message.content.trim() === "") break;
        if (i >= trailing) out.push({ role: "system", content: [{ type: "text", text: message.content }] });
        else system.push(message.content);
        break;
      case "user":
        push({ role: "user", content: convertParts(message.content) });
        break;
      case "assistant": {
        // Thinking first, as Anthropic returns it; only signed blocks arrive here (see reasoningForTarget).
        const content: AnthropicAssistantBlock[] = [];
        for (const part of message.reasoning ?? []) {
          if (part.redactedData !== undefined) content.push({ type: "redacted_thinking", data: part.redactedData });
          else if (part.signature !== undefined)
            content.push({ type: "thinking", thinking: part.text, signature: part.signature });
        }
        content.push(...(convertParts(message.content, false) as Array<AnthropicTextBlock | AnthropicImageBlock>));
        // Arguments that are not one JSON object go as their text in an object (named by anthropicUnsent).
        for (const call of message.toolCalls ?? []) {
          content.push({ type: "tool_use", id: toolUseId(call.id), name: call.name, input: argumentsObject(call.arguments) });
        }
        push({ role: "assistant", content });
        break;
      }
      case "tool": {
        const content = convertParts(message.content);
        push({
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: toolUseId(message.toolCallId),
              ...(content.length > 0 ? { content } : {}),
              ...(message.isError ? { is_error: true } : {}),
            },
          ],
        });
        break;
      }
    }
  }

  for (const turn of out) {
    if (turn.role === "user") turn.content = toolResultsFirst(turn.content);
  }
  trimFinalAssistant(out);
  return { system: system.length > 0 ? system.join("\n\n") : undefined, messages: out };
}

/**
 * Canonical parts as Anthropic blocks. A PDF goes as a `document` block (where `documents`: an
 * assistant turn has none); any other file as its text, or not at all when it has none (named by
 * anthropicUnsent).
 */
function convertParts(
  parts: readonly ContentPart[],
  documents = true,
): Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock> {
  const out: Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock> = [];
  for (const part of parts) {
    if (part.type === "text") {
      // Anthropic refuses a turn whose text is only whitespace (a model's "\n\n" before its tool call).
      if (part.text.trim() !== "") out.push({ type: "text", text: part.text });
    } else if (part.type === "file") {
      if (documents && part.mediaType === "application/pdf") {
        out.push({
          type: "document",
          source: { type: "base64", media_type: "application/pdf", data: part.data },
          ...(part.filename !== undefined && { title: part.filename }),
        });
      } else {
        const text = filePartAsText(part);
        if (text !== undefined) out.push(text);
      }
    } else if (part.source.kind === "base64") {
      out.push({ type: "image", source: { type: "base64", media_type: part.source.mediaType, data: part.source.data } });
    } else {
      out.push({ type: "image", source: imageUrlSource(part.source.url) });
    }
  }
  return out;
}

/** OpenAI clients send inline images as data: URLs, which Anthropic only accepts as base64 sources. */
function imageUrlSource(url: string): AnthropicImageBlock["source"] {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match?.[1] && match[2] !== undefined) return { type: "base64", media_type: match[1], data: match[2] };
  return { type: "url", url };
}

const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

/**
 * The ids a conversation's tool calls and results are sent with. Anthropic requires tool ids to match
 * ^[a-zA-Z0-9_-]+$; ids from other backends may not. The same mapping is applied to tool_use and
 * tool_result, so they still pair up, and it never gives two ids one: Anthropic refuses a repeated
 * tool_use id, and which result answers which call would be lost. An id an Anthropic client wrote
 * (`clientIds`: `toolu_…`, which the canonical form carries without its prefix) is sent as the client
 * wrote it, and an id Anthropic takes as it is (an Anthropic answer's own ids come back unchanged):
 * either way the prompt cache prefix is the one the same-wire path makes. Another has its other
 * characters written `_`, then a counter when that id is already the conversation's (`c.1` beside
 * `c_1` is sent `c_1_2`, Kimi's `functions.get_weather:0` beside a `functions_get_weather_0` likewise).
 */
export function toolUseIds(messages: readonly Message[], clientIds?: ReadonlyMap<string, string>): (id: string) => string {
  const sent = new Map<string, string>();
  const taken = new Set<string>();
  for (const message of messages) {
    const ids = message.role === "assistant" ? (message.toolCalls ?? []).map((call) => call.id) : [];
    if (message.role === "tool") ids.push(message.toolCallId);
    for (const id of ids) {
      const wire = clientIds?.get(id) ?? id;
      if (sent.has(id) || !TOOL_ID.test(wire) || taken.has(wire)) continue;
      sent.set(id, wire);
      taken.add(wire);
    }
  }
  return (id) => {
    const known = sent.get(id);
    if (known !== undefined) return known;
    const clean = id.replace(/[^a-zA-Z0-9_-]/g, "_") || "toolu_missing_id";
    let unique = clean;
    for (let n = 2; taken.has(unique); n++) unique = `${clean}_${n}`;
    sent.set(id, unique);
    taken.add(unique);
    return unique;
  };
}

function toolResultsFirst(blocks: AnthropicUserBlock[]): AnthropicUserBlock[] {
  return [...blocks.filter((b) => b.type === "tool_result"), ...blocks.filter((b) => b.type !== "tool_result")];
}

/** Where the system messages that follow the last assistant turn, and only system messages, start (else the length). */
function trailingSystemTurns(messages: readonly Message[]): number {
  let start = messages.length;
  while (start > 0 && messages[start - 1]?.role === "system") start--;
  return start < messages.length && messages[start - 1]?.role === "assistant" ? start : messages.length;
}

function trimFinalAssistant(turns: AnthropicMessageParam[]): void {
  const last = turns.at(-1);
  if (last?.role !== "assistant") return;
  const block = last.content.at(-1);
  if (block?.type !== "text") return;
  block.text = block.text.trimEnd();
  if (block.text === "") last.content.pop();
  if (last.content.length === 0) turns.pop();
}
