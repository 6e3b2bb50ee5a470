import { chatMessageId, type StoredChatCompletion, type StoredChatMessage } from "../../../core/index.js";

type Json = Record<string, unknown>;

/** A stored completion as OpenAI answers a retrieve, an update or a list: the completion with its metadata. */
export function renderStoredChatCompletion(stored: StoredChatCompletion): Json {
  return { ...stored.completion, metadata: stored.metadata };
}

/**
 * One message of a stored completion's request, as OpenAI lists them (ChatCompletionStoreMessage):
 * its id `<completion id>-<index>`, the message as it was sent, `content` as text (an array's text
 * parts joined; null when it had none), `refusal` (an assistant message's own, else null: the SDK's
 * type, ChatCompletionMessage, requires it on every message) and `content_parts`: the array's `text`
 * and `image_url` parts, or null when the content was a string.
 */
export function renderStoredChatMessage(completionId: string, stored: StoredChatMessage): Json {
  const { message } = stored;
  const content = message.content;
  let text: string | null = null;
  let parts: Json[] | null = null;
  if (typeof content === "string") text = content;
  else if (Array.isArray(content)) {
    parts = (content as Json[]).filter((part) => part !== null && (part.type === "text" || part.type === "image_url"));
    const texts = parts
      .filter((part) => part.type === "text" && typeof part.text === "string")
      .map((part) => part.text as string);
    text = texts.length > 0 ? texts.join("\n") : null;
  }
  // OpenAI's id, whatever else the client's message carried.
  const { id: _sent, ...fields } = message;
  return {
    id: chatMessageId(completionId, stored.index),
    ...fields,
    content: text,
    refusal: typeof message.refusal === "string" ? message.refusal : null,
    name: message.name ?? null,
    content_parts: parts,
  };
}
