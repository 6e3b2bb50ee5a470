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

/** Texts longer than this are scanned in windows of this size (see detectInWindows). */
const WINDOW = 256 * 1024;
/**
 * Context scanned on each side of a window: longer than any match the detectors make (a PEM private
 * key is about 3 KB) and than the context they look at, so a window finds exactly what a scan of the
 * whole text finds there.
 */
const MARGIN = 16 * 1024;
/** classifyRequestInSlices leaves the event loop after about this many characters scanned. */
const SLICE = 512 * 1024;

/**
 * What a request contains that should not leave the machine unnoticed: scans the system prompt,
 * every text part, every tool call's arguments and every tool result, and notes every image.
 * Pure and synchronous. `options` are compiled once per options object (see detectorFor).
 */
export function classifyRequest(request: ChatRequest, options?: DetectionOptions | SensitiveDataDetector): RequestClassification {
  const scan = scanRequest(request, detectorFor(options));
  let step = scan.next();
  while (!step.done) step = scan.next();
  return step.value;
}

/**
 * classifyRequest for large requests, with the same result, that leaves the event loop every
 * `SLICE` characters or so, so that scanning a 32 MB body does not hold every other client up.
 */
export async function classifyRequestInSlices(
  request: ChatRequest,
  options?: DetectionOptions | SensitiveDataDetector,
): Promise<RequestClassification> {
  const scan = scanRequest(request, detectorFor(options));
  let scanned = 0;
  for (;;) {
    const step = scan.next();
    if (step.done) return step.value;
    scanned += step.value;
    if (scanned >= SLICE) {
      scanned = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** Characters of text in a request (an upper bound of what classification scans), cheaply. */
export function requestTextLength(request: ChatRequest): number {
  let total = 0;
  for (const message of request.messages) {
    if (message.role === "system") {
      total += message.content.length;
      continue;
    }
    for (const part of message.content) {
      if (part.type === "text") total += part.text.length;
      else if (part.source.kind === "url" && !part.source.url.startsWith("data:")) total += part.source.url.length;
    }
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) total += call.arguments.length;
  }
  return total;
}

/** The classification, yielding the number of characters scanned after each piece of work. */
function* scanRequest(request: ChatRequest, detector: SensitiveDataDetector): Generator<number, RequestClassification> {
  const findings: LocatedFinding[] = [];
  const images: ImageLocation[] = [];
  const add = (found: readonly Finding[], where: FindingLocation) => {
    for (const f of found) findings.push({ ...f, where });
  };
  function* scanText(text: string, where: FindingLocation): Generator<number> {
    if (text.length <= WINDOW) {
      add(detector.detect(text), where);
      yield text.length;
      return;
    }
    for (let from = 0; from < text.length; from += WINDOW) {
      add(detectInWindow(detector, text, from, Math.min(text.length, from + WINDOW)), where);
      yield WINDOW;
    }
  }
  function* scanParts(parts: readonly ContentPart[], message: number, source: "text" | "tool-result"): Generator<number> {
    for (const [index, part] of parts.entries()) {
      if (part.type === "image") {
        const { source: image } = part;
        const dataUrl = image.kind === "url" && image.url.startsWith("data:");
        const mediaType =
          image.kind === "base64" ? image.mediaType : dataUrl ? DATA_URL_MEDIA_TYPE.exec(image.url)?.[1] : undefined;
        images.push(mediaType === undefined ? { message, part: index } : { message, part: index, mediaType });
        if (image.kind === "url" && !dataUrl) yield* scanText(image.url, { message, source: "image-url", part: index });
        continue;
      }
      if (source === "tool-result" && isJsonDocument(part.text)) {
        add(detector.detectInJson(part.text), { message, source, part: index });
        yield part.text.length;
        continue;
      }
      yield* scanText(part.text, { message, source, part: index });
    }
  }

  for (const [index, message] of request.messages.entries()) {
    switch (message.role) {
      case "system":
        yield* scanText(message.content, { message: index, source: "system" });
        break;
      case "user":
        yield* scanParts(message.content, index, "text");
        break;
      case "assistant":
        yield* scanParts(message.content, index, "text");
        for (const [toolCall, call] of (message.toolCalls ?? []).entries()) {
          add(detector.detectInJson(call.arguments), { message: index, source: "tool-call", toolCall });
          yield call.arguments.length;
        }
        break;
      case "tool":
        yield* scanParts(message.content, index, "tool-result");
        break;
    }
  }

  const counts: Record<string, number> = {};
  let level: Sensitivity = images.length > 0 && detector.imagesArePrivate ? "private" : "public";
  for (const f of findings) {
    counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    level = maxSensitivity(level, f.level);
  }
  return { level, findings, counts, images };
}

/**
 * The findings of `text` that start in [from, to), found by scanning that window with MARGIN of
 * context on each side (offsets into the whole text). Bounds the work of one step on a huge text.
 */
function detectInWindow(detector: SensitiveDataDetector, text: string, from: number, to: number): Finding[] {
  const start = Math.max(0, from - MARGIN);
  const found = detector.detect(text.slice(start, Math.min(text.length, to + MARGIN)));
  const out: Finding[] = [];
  for (const f of found) {
    const at = f.start + start;
    if (at < from || at >= to) continue;
    out.push({ ...f, start: at, end: f.end + start });
  }
  return out;
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
