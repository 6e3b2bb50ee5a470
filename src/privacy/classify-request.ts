import type { ContentPart } from "../core/messages.js";
import type { ChatRequest } from "../core/request.js";
import { type DetectionOptions, detectorFor, type SensitiveDataDetector } from "./detector.js";
import type { Finding } from "./finding.js";
import { isJsonDocument } from "./json-text.js";
import { maxSensitivity, type Sensitivity } from "./sensitivity.js";

/** Where in a request a finding is. */
export interface FindingLocation {
  /** Index into `request.messages`. */
  message: number;
  /**
   * `system`: a system message's content; `text`: a text part of a user or assistant message;
   * `tool-call`: an assistant tool call's arguments; `tool-result`: a text part of a tool message;
   * `image-url`: the URL of an image part (signed URLs carry tokens). Redaction leaves image
   * parts as they are, since a redacted URL no longer loads.
   */
  source: "system" | "text" | "tool-call" | "tool-result" | "image-url";
  /** Index into the message's `content`, for `text`, `tool-result` and `image-url`. */
  part?: number;
  /** Index into the message's `toolCalls`, for `tool-call`. */
  toolCall?: number;
}

/**
 * A finding and where it is. Offsets are into that one string (the system prompt, the part's
 * text, the call's arguments). In JSON texts (tool-call arguments, tool results that are JSON)
 * `value` is the decoded string value, which differs from the raw slice when it holds escapes.
 */
export interface LocatedFinding extends Finding {
  where: FindingLocation;
}

/** An image part. Its pixels cannot be inspected here; a data URL's media type is metadata, not PII. */
export interface ImageLocation {
  message: number;
  part: number;
  mediaType?: string;
}

const DATA_URL_MEDIA_TYPE = /^data:([^;,]+)/;

export interface RequestClassification {
  /** `private` for any built-in or private-level finding (or an image, by default), `internal` for internal-level matches only. */
  level: Sensitivity;
  findings: LocatedFinding[];
  /** Number of findings per kind. Never the values: safe to log. */
  counts: Record<string, number>;
  images: ImageLocation[];
}

/**
 * What a request contains that should not leave the machine unnoticed: scans the system prompt,
 * every text part, every tool call's arguments and every tool result, and notes every image.
 * Pure and synchronous. `options` are compiled once per options object (see detectorFor).
 */
export function classifyRequest(request: ChatRequest, options?: DetectionOptions | SensitiveDataDetector): RequestClassification {
  const detector = detectorFor(options);
  const findings: LocatedFinding[] = [];
  const images: ImageLocation[] = [];
  const add = (found: readonly Finding[], where: FindingLocation) => {
    for (const f of found) findings.push({ ...f, where });
  };
  const scanParts = (parts: readonly ContentPart[], message: number, source: "text" | "tool-result") => {
    parts.forEach((part, index) => {
      if (part.type === "image") {
        const { source: image } = part;
        const dataUrl = image.kind === "url" && image.url.startsWith("data:");
        const mediaType =
          image.kind === "base64" ? image.mediaType : dataUrl ? DATA_URL_MEDIA_TYPE.exec(image.url)?.[1] : undefined;
        images.push(mediaType === undefined ? { message, part: index } : { message, part: index, mediaType });
        if (image.kind === "url" && !dataUrl) add(detector.detect(image.url), { message, source: "image-url", part: index });
        return;
      }
      const found =
        source === "tool-result" && isJsonDocument(part.text) ? detector.detectInJson(part.text) : detector.detect(part.text);
      add(found, { message, source, part: index });
    });
  };

  request.messages.forEach((message, index) => {
    switch (message.role) {
      case "system":
        add(detector.detect(message.content), { message: index, source: "system" });
        break;
      case "user":
        scanParts(message.content, index, "text");
        break;
      case "assistant":
        scanParts(message.content, index, "text");
        message.toolCalls?.forEach((call, toolCall) => {
          add(detector.detectInJson(call.arguments), { message: index, source: "tool-call", toolCall });
        });
        break;
      case "tool":
        scanParts(message.content, index, "tool-result");
        break;
    }
  });

  const counts: Record<string, number> = {};
  let level: Sensitivity = images.length > 0 && detector.imagesArePrivate ? "private" : "public";
  for (const f of findings) {
    counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    level = maxSensitivity(level, f.level);
  }
  return { level, findings, counts, images };
}

/**
 * Every text of a request a model reads: messages, tool-call arguments, tool names and
 * descriptions. Placeholders are chosen so as not to occur in any of them.
 */
export function* requestTexts(request: ChatRequest): Generator<string> {
  for (const message of request.messages) {
    if (message.role === "system") {
      yield message.content;
      continue;
    }
    for (const part of message.content) if (part.type === "text") yield part.text;
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) yield call.arguments;
  }
  for (const tool of request.tools ?? []) {
    yield tool.name;
    if (tool.description !== undefined) yield tool.description;
  }
}
