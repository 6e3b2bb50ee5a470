import type { ContentPart } from "../core/messages.js";
import type { ChatRequest } from "../core/request.js";
import { measureRequestText } from "../core/request-text-size.js";
import { type DetectionOptions, detectorFor, type SensitiveDataDetector } from "./detector.js";
import type { Finding } from "./finding.js";
import { isJsonDocument } from "./json-text.js";
import { maxSensitivity, type Sensitivity } from "./sensitivity.js";

/** Where in a request a finding is. */
export type FindingLocation = MessageLocation | SettingLocation | BodyLocation;

/** A finding in the canonical conversation. */
export interface MessageLocation {
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
 * A finding in a canonical field outside the conversation that the target is sent too: a tool
 * definition (`tools`: its name, description and every string of its parameter schema, such as a
 * property's description, enum or default), the output schema (`response_format`), or an id or key
 * the client sends its provider (`user`, `prompt_cache_key`, `safety_identifier`), or the text after
 * a fill-in-the-middle gap (`suffix`, CompletionPrompt.suffix; its prompt is the user message's text).
 */
export interface SettingLocation {
  source: "setting";
  field: "tools" | "response_format" | "user" | "prompt_cache_key" | "safety_identifier" | "suffix";
}

/**
 * A finding in a string of the client's own body (the same-wire path, see core/native.ts) that the
 * canonical form does not carry (`prediction.content`, an unknown field, a block's unknown field):
 * such a target is sent the body as it came, so every string in it is read.
 */
export interface BodyLocation {
  source: "body";
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
  /**
   * File parts without text (a scanned PDF, a binary file): their content cannot be read here, so
   * they count as an image does (`imagesArePrivate`). A file with text is scanned as text.
   */
  unreadFiles: number;
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
  const scan = new RequestScan(request, detectorFor(options));
  for (const piece of scan.pieces) {
    if (piece.json || piece.text.length <= WINDOW) scan.whole(piece);
    else for (let from = 0; from < piece.text.length; from += WINDOW) scan.window(piece, from);
  }
  return scan.result();
}

/**
 * classifyRequest for large requests, with the same result, that leaves the event loop every
 * `SLICE` characters or so, so that scanning a 32 MB body does not hold every other client up.
 */
export async function classifyRequestInSlices(
  request: ChatRequest,
  options?: DetectionOptions | SensitiveDataDetector,
): Promise<RequestClassification> {
  const scan = new RequestScan(request, detectorFor(options));
  let scanned = 0;
  const scannedMore = async (characters: number) => {
    scanned += characters;
    if (scanned < SLICE) return;
    scanned = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  for (const piece of scan.pieces) {
    if (piece.json || piece.text.length <= WINDOW) {
      scan.whole(piece);
      await scannedMore(piece.text.length);
      continue;
    }
    for (let from = 0; from < piece.text.length; from += WINDOW) {
      scan.window(piece, from);
      await scannedMore(WINDOW);
    }
  }
  return scan.result();
}

/**
 * Characters of text in a request (an upper bound of what classification scans), cheaply: its texts,
 * tool-call arguments and the image URLs that are scanned (not data URLs).
 */
export function requestTextLength(request: ChatRequest): number {
  const size = measureRequestText(request);
  return size.text + size.imageUrls;
}

/** One text of a request to scan, and where it is; `json`: scanned as a JSON document (never in windows). */
interface Piece {
  text: string;
  where: FindingLocation;
  json: boolean;
}

/** How deep the walk of a client's own body goes (the body was depth-checked when parsed: 100 levels). */
const MAX_BODY_DEPTH = 128;

/**
 * One request's classification: its texts listed in order first (images noted on the way), then
 * scanned whole or window by window by classifyRequest or classifyRequestInSlices. Plain calls, no
 * generators: every request to a cloud target is classified, and a generator per message and part
 * cost a small request about 25 µs, five times its detectors' work.
 */
class RequestScan {
  readonly pieces: Piece[] = [];
  readonly #findings: LocatedFinding[] = [];
  readonly #images: ImageLocation[] = [];
  #unreadFiles = 0;
  /** Images' and files' bytes and data URLs: not text, never scanned (also where the client's body holds them). */
  readonly #skipped: string[] = [];
  /** The values found in the canonical texts: a body string that repeats one (a system block) does not count it twice. */
  #canonicalValues: Set<string> | undefined;
  readonly #detector: SensitiveDataDetector;

  constructor(request: ChatRequest, detector: SensitiveDataDetector) {
    this.#detector = detector;
    const messages = request.messages;
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as ChatRequest["messages"][number];
      switch (message.role) {
        case "system":
          this.pieces.push({ text: message.content, where: { message: index, source: "system" }, json: false });
          break;
        case "user":
          this.#parts(message.content, index, "text");
          break;
        case "assistant": {
          this.#parts(message.content, index, "text");
          const calls = message.toolCalls ?? [];
          for (let toolCall = 0; toolCall < calls.length; toolCall++) {
            const call = calls[toolCall] as NonNullable<typeof message.toolCalls>[number];
            this.pieces.push({ text: call.arguments, where: { message: index, source: "tool-call", toolCall }, json: true });
          }
          break;
        }
        case "tool":
          this.#parts(message.content, index, "tool-result");
          break;
      }
    }
    this.#settings(request);
    if (request.native !== undefined) this.#body(request.native.body);
  }

  /** The canonical fields outside the conversation that a target is sent (see SettingLocation), those present only. */
  #settings(request: ChatRequest): void {
    const tools = request.tools;
    if (tools !== undefined && tools.length > 0) {
      const where: SettingLocation = { source: "setting", field: "tools" };
      // Not the name: an identifier the model calls back by, and a placeholder in it would break the call.
      for (const tool of tools) {
        if (tool.description) this.pieces.push({ text: tool.description, where, json: false });
        if (tool.parameters !== undefined)
          forEachSchemaString(tool.parameters, (text) => this.pieces.push({ text, where, json: false }));
      }
    }
    const format = request.responseFormat;
    if (format?.type === "json_schema") {
      const where: SettingLocation = { source: "setting", field: "response_format" };
      if (format.name) this.pieces.push({ text: format.name, where, json: false });
      forEachSchemaString(format.schema, (text) => this.pieces.push({ text, where, json: false }));
    }
    if (request.user) this.pieces.push({ text: request.user, where: { source: "setting", field: "user" }, json: false });
    if (request.promptCacheKey)
      this.pieces.push({ text: request.promptCacheKey, where: { source: "setting", field: "prompt_cache_key" }, json: false });
    if (request.safetyIdentifier)
      this.pieces.push({ text: request.safetyIdentifier, where: { source: "setting", field: "safety_identifier" }, json: false });
    const suffix = request.completion?.suffix;
    if (suffix) this.pieces.push({ text: suffix, where: { source: "setting", field: "suffix" }, json: false });
  }

  /**
   * The strings of the client's own body that are not already read above (nor an image's or a file's
   * bytes): a same-wire target is sent the body as it came, unknown and wire-only fields included.
   */
  #body(body: Record<string, unknown>): void {
    const read = new Set<string>();
    for (const piece of this.pieces) read.add(piece.text);
    for (const text of this.#skipped) read.add(text);
    const where: BodyLocation = { source: "body" };
    forEachBodyString(body, (text) => {
      if (read.has(text) || isBytes(text)) return;
      read.add(text);
      this.pieces.push({ text, where, json: false });
    });
  }

  #parts(parts: readonly ContentPart[], message: number, source: "text" | "tool-result"): void {
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index] as ContentPart;
      if (part.type === "image") {
        const { source: image } = part;
        const dataUrl = image.kind === "url" && image.url.startsWith("data:");
        const mediaType =
          image.kind === "base64" ? image.mediaType : dataUrl ? DATA_URL_MEDIA_TYPE.exec(image.url)?.[1] : undefined;
        this.#images.push(mediaType === undefined ? { message, part: index } : { message, part: index, mediaType });
        if (image.kind === "base64") this.#skipped.push(image.data);
        else if (dataUrl) this.#skipped.push(image.url);
        if (image.kind === "url" && !dataUrl) {
          this.pieces.push({ text: image.url, where: { message, source: "image-url", part: index }, json: false });
        }
        continue;
      }
      if (part.type === "file") {
        // A file's text is read as the text around it is; a file without text cannot be read.
        this.#skipped.push(part.data);
        if (part.text === undefined) this.#unreadFiles++;
        else this.pieces.push({ text: part.text, where: { message, source, part: index }, json: false });
        continue;
      }
      const json = source === "tool-result" && isJsonDocument(part.text);
      this.pieces.push({ text: part.text, where: { message, source, part: index }, json });
    }
  }

  /** Scans a piece whole. */
  whole(piece: Piece): void {
    this.#add(piece.json ? this.#detector.detectInJson(piece.text) : this.#detector.detect(piece.text), piece.where);
  }

  /** Scans the window of a long text piece that starts at `from` (see detectInWindow). */
  window(piece: Piece, from: number): void {
    this.#add(detectInWindow(this.#detector, piece.text, from, Math.min(piece.text.length, from + WINDOW)), piece.where);
  }

  #add(found: readonly Finding[], where: FindingLocation): void {
    if (where.source === "body") {
      // The body's pieces come after every canonical one: what those found is known by now.
      this.#canonicalValues ??= new Set(this.#findings.map((f) => f.value));
      const known = this.#canonicalValues;
      for (const f of found) if (!known.has(f.value)) this.#findings.push({ ...f, where });
      return;
    }
    for (const f of found) this.#findings.push({ ...f, where });
  }

  result(): RequestClassification {
    const findings = this.#findings;
    const images = this.#images;
    const counts: Record<string, number> = {};
    const unreadable = images.length + this.#unreadFiles > 0;
    let level: Sensitivity = unreadable && this.#detector.imagesArePrivate ? "private" : "public";
    for (const f of findings) {
      counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      level = maxSensitivity(level, f.level);
    }
    return { level, findings, counts, images, unreadFiles: this.#unreadFiles };
  }
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
    for (const part of message.content) {
      if (part.type === "text") yield part.text;
      else if (part.type === "file" && part.text !== undefined) yield part.text;
    }
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) yield call.arguments;
  }
  const settings: string[] = [];
  for (const tool of request.tools ?? []) {
    settings.push(tool.name);
    if (tool.description !== undefined) settings.push(tool.description);
    if (tool.parameters !== undefined) forEachSchemaString(tool.parameters, (text) => settings.push(text));
  }
  if (request.responseFormat?.type === "json_schema")
    forEachSchemaString(request.responseFormat.schema, (text) => settings.push(text));
  for (const text of [request.user, request.promptCacheKey, request.safetyIdentifier, request.completion?.suffix])
    if (text) settings.push(text);
  yield* settings;
  // A same-wire target reads the client's own body, strings the canonical form does not carry included.
  if (request.native !== undefined) {
    const texts: string[] = [];
    forEachBodyString(request.native.body, (text) => texts.push(text));
    yield* texts;
  }
}

/** Base64 of this length or longer, without spaces, is taken for bytes (a document's, an audio clip's). */
const BYTES_MIN = 1024;
const BASE64 = /^[A-Za-z0-9+/=_-]+$/;

/** Whether a string of a client's body is bytes rather than text: a data URL, or a long run of base64. */
function isBytes(text: string): boolean {
  return text.startsWith("data:") || (text.length >= BYTES_MIN && BASE64.test(text));
}

/**
 * Fields whose strings a provider issued and reads back as they are (ids, thinking signatures,
 * encrypted reasoning), that hold bytes (`data`: a redacted thinking block's, a base64 source's), or
 * that name a part's kind (`type`, `role`): not the user's text; the first high-entropy enough to
 * look like a token to the detectors, the last on every part (not scanning them saves most of the walk's cost).
 */
const OPAQUE = new Set([
  "type",
  "role",
  "id",
  "call_id",
  "tool_call_id",
  "tool_use_id",
  "item_id",
  "file_id",
  "previous_response_id",
  "conversation",
  "signature",
  "encrypted_content",
  "encrypted_index",
  "data",
]);

/**
 * Top-level fields left unread: the model's name, which tool to call, stop sequences and Anthropic's
 * container and context management: settings and ids, never the user's data. Everything else is read,
 * tool definitions, output schemas, `user`, `metadata` and cache keys included (a private value in a
 * tool's description makes the request private, as it would in a message).
 */
const CARRIED_UNREAD = new Set(["model", "tool_choice", "stop", "stop_sequences", "container", "context_management"]);

/**
 * Left unread under `tools` and `mcp_servers`: a tool's or server's `name` (an identifier the model
 * calls back by, as the canonical form's tool names are), and the credentials the client gives its
 * provider to use on its behalf (a Responses `mcp` tool's `authorization` and `headers`, Anthropic's
 * `authorization_token`), sent as the API key is so that the provider can reach the server: the
 * request's text is what is private, not the key to a server it names.
 */
const TOOL_UNREAD = new Set(["name", "authorization", "authorization_token", "headers"]);
/** The top-level fields whose entries TOOL_UNREAD applies to. */
const TOOL_FIELDS = new Set(["tools", "mcp_servers"]);

/**
 * Every non-empty string value in a client's own JSON body but CARRIED_UNREAD's, OPAQUE fields' and
 * TOOL_UNREAD's, depth-bounded. Keys are not values, but for `metadata`'s (the client's own labels,
 * free text a provider keeps with the request).
 */
function forEachBodyString(body: Record<string, unknown>, visit: (text: string) => void): void {
  // A plain recursive walk (no generator, no entry arrays): it runs on every same-wire request classified.
  const walk = (value: unknown, depth: number, inTools: boolean): void => {
    if (typeof value === "string") {
      if (value !== "") visit(value);
    } else if (typeof value === "object" && value !== null && depth < MAX_BODY_DEPTH) {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, depth + 1, inTools);
        return;
      }
      const object = value as Record<string, unknown>;
      for (const key in object) {
        const item = object[key];
        if (typeof item === "string" && OPAQUE.has(key)) continue;
        if (depth === 0) {
          if (CARRIED_UNREAD.has(key)) continue;
          if (key === "metadata" && typeof item === "object" && item !== null) for (const label in item) visit(label);
          walk(item, 1, TOOL_FIELDS.has(key));
          continue;
        }
        // On the entry itself (`tools[0].name`), or a chat tool's `function.name`; never deeper, in a schema.
        if (inTools && depth <= 3 && TOOL_UNREAD.has(key) && (depth === 2 || (key === "name" && typeof item === "string")))
          continue;
        walk(item, depth + 1, inTools);
      }
    }
  };
  walk(body, 0, false);
}

/**
 * Every non-empty string of a JSON schema (a tool's parameters, an output schema): descriptions,
 * titles, enum values, defaults, examples, patterns; not its `type`s nor its property names.
 */
function forEachSchemaString(schema: unknown, visit: (text: string) => void): void {
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === "string") {
      if (value !== "") visit(value);
    } else if (typeof value === "object" && value !== null && depth < MAX_BODY_DEPTH) {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, depth + 1);
        return;
      }
      const object = value as Record<string, unknown>;
      for (const key in object) {
        const item = object[key];
        if (key === "type" && typeof item === "string") continue;
        walk(item, depth + 1);
      }
    }
  };
  walk(schema, 0);
}
