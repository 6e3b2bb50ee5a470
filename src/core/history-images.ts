import type { ContentPart, Message } from "./messages.js";

/*
 * Images and targets that read none (the embedded engine, a model configured with `vision: false`):
 * an image of the request's own input makes such a target refuse (a route skips it for one that
 * sees), while an earlier turn's image that tandem keeps (ImagePart.fromHistory) is left out for it
 * and named, as earlier reasoning another provider made is (reasoning.ts): a conversation is never
 * locked to one kind of target by an image sent once.
 */

/** Whether the request's own input (not an earlier turn tandem keeps) carries an image. */
export function hasOwnImage(messages: readonly Message[]): boolean {
  for (const message of messages) {
    if (message.role !== "system" && message.content.some((p) => p.type === "image" && p.fromHistory !== true)) return true;
  }
  return false;
}

/**
 * The conversation as a target that reads no images can be sent it: its earlier turns' images left
 * out, and counted (`dropped`, for x-tandem-warnings). A message keeps its place, without them; the
 * same array is returned when nothing changes, and each message that loses none is the same object.
 */
export function withoutHistoryImages(messages: Message[]): { messages: Message[]; dropped: number } {
  // The hot path: most conversations carry no earlier image, and cost no copy.
  if (!messages.some((m) => m.role !== "system" && m.content.some(isHistoryImage))) return { messages, dropped: 0 };
  let dropped = 0;
  const out = messages.map((message) => {
    if (message.role === "system") return message;
    const kept: ContentPart[] = message.content.filter((p) => !isHistoryImage(p));
    if (kept.length === message.content.length) return message;
    dropped += message.content.length - kept.length;
    return { ...message, content: kept };
  });
  return { messages: out, dropped };
}

function isHistoryImage(part: ContentPart): boolean {
  return part.type === "image" && part.fromHistory === true;
}

/** The `x-tandem-warnings` entry for earlier turns' images left out ("... not sent to <target>"). */
export function droppedHistoryImages(count: number): string {
  return count === 1 ? "an earlier turn's image" : `earlier turns' images (${count})`;
}
