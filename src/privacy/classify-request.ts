import type {
  AssistantMessage,
  ContentPart,
  FilePart,
  ImagePart,
  ReasoningPart,
  SystemMessage,
  TextPart,
  ToolCall,
  ToolDefinition,
  ToolMessage,
  UserMessage,
} from "../core/messages.js";
import type { ChatRequest } from "../core/request.js";
import { measureRequestText } from "../core/request-text-size.js";
import { type BodyStringKind, forEachBodyString, forEachBodyStringInTurns } from "./body-strings.js";
import { type DetectionOptions, detectorFor, PIECE_SEPARATOR, type SensitiveDataDetector } from "./detector.js";
import type { Finding } from "./finding.js";
import { isJsonDocument } from "./json-text.js";
import { maxSensitivity, type Sensitivity } from "./sensitivity.js";

/** Where in a request a finding is. */
export type FindingLocation = MessageLocation | SettingLocation | BodyLocation | IdLocation;

/** A finding in the canonical conversation. */
export interface MessageLocation {
  /** Index into `request.messages`. */
  message: number;
  /**
   * `system`: a system message's content; `text`: a text part of a user or assistant message;
   * `tool-call`: an assistant tool call's arguments; `tool-result`: a text part of a tool message;
   * `image-url`: the URL of an image part (signed URLs carry tokens). Redaction leaves image
   * parts as they are, since a redacted URL no longer loads. `reasoning`: the text of an assistant
   * turn's reasoning part. A file part's name and text are its message's `text` or `tool-result`.
   */
  source: "system" | "text" | "tool-call" | "tool-result" | "image-url" | "reasoning";
  /** Index into the message's `content`, for `text`, `tool-result` and `image-url`; into its `reasoning`, for `reasoning`. */
  part?: number;
  /** Index into the message's `toolCalls`, for `tool-call`. */
  toolCall?: number;
}

/**
 * A finding in a canonical field outside the conversation that the target is sent too (see
 * REQUEST_FIELDS): a tool definition (`tools`: its description and every string of its parameter
 * schema, such as a property's name, description, enum or default), the output schema
 * (`response_format`), the stop sequences (`stop`), or an id or key the client sends its provider
 * (`user`, `prompt_cache_key`, `safety_identifier`), or the text after a fill-in-the-middle gap
 * (`suffix`, CompletionPrompt.suffix; its prompt is the user message's text).
 */
export interface SettingLocation {
  source: "setting";
  field: "tools" | "response_format" | "stop" | "user" | "prompt_cache_key" | "safety_identifier" | "suffix";
}

/**
 * A finding in a string of the client's own body (the same-wire path, see core/native.ts) that the
 * canonical form does not carry (`prediction.content`, an unknown field, a block's unknown field, an
 * object's key): such a target is sent the body as it came, so every string in it is read but for
 * the few body-strings.ts lists.
 */
export interface BodyLocation {
  source: "body";
}

/**
 * A finding in an identifier: a tool call's id (on the call and on its result), or in the client's
 * own body an item's, a file's, a response's (body-strings.ts, IDENTIFIER_FIELDS). Read by every
 * detector but the high-entropy one (SensitiveDataDetector.detectIdentifier).
 */
export interface IdLocation {
  source: "id";
}

/**
 * A finding and where it is. Offsets are into that one string (the system prompt, the part's
 * text, the call's arguments), or, for the strings read together (a setting's, the body's short
 * strings, the identifiers), into their text joined by PIECE_SEPARATOR. In JSON texts (tool-call
 * arguments, tool results that are JSON) `value` is the decoded string value, which differs from the
 * raw slice when it holds escapes.
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
    if (piece.as !== "text" || piece.text.length <= WINDOW) scan.whole(piece);
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
  const scan = new RequestScan(request, detectorFor(options), false);
  await scan.readBodyInTurns(request);
  let scanned = 0;
  const scannedMore = async (characters: number) => {
    scanned += characters;
    if (scanned < SLICE) return;
    scanned = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  for (const piece of scan.pieces) {
    if (piece.as !== "text" || piece.text.length <= WINDOW) {
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

/**
 * One text of a request to scan, and where it is. `as`: `json`, scanned as a JSON document (never
 * in windows); `id`, identifiers joined by PIECE_SEPARATOR (detectIdentifier). `body`: a string of
 * the client's own body, whose findings of a value the canonical texts hold are not counted twice.
 */
interface Piece {
  text: string;
  where: FindingLocation;
  as: "text" | "json" | "id";
  body?: true;
}

/** The client's body strings shorter than this are read together, as one text (one detection instead of one each). */
const SHORT = 256;

/** Not text: a number, a flag, a count, a level, a hook. */
const NOT_TEXT = "not text";

/** Calls `text` with every string of one field of the canonical request that classification reads. */
type FieldReader<V> = (value: V, text: (s: string) => void) => void;

/**
 * Every field of the canonical request, and how classification reads it: a setting field's name and
 * its reader, or why it is not read. A field added to ChatRequest does not compile until it is
 * listed here, so none reaches a target unread by oversight. Every string a reader gives must be
 * redacted or left out by Redaction.redactRequest on a redacting route.
 */
const REQUEST_FIELDS: {
  readonly [K in keyof ChatRequest]-?:
    | { field: SettingLocation["field"]; read: FieldReader<NonNullable<ChatRequest[K]>> }
    | string;
} = {
  model: "a name of tandem's (a route or a target), replaced by the target's own model id before anything is sent",
  messages: "read first, message by message, each string with its place (MessageLocation; CONVERSATION_FIELDS)",
  tools: {
    field: "tools",
    // Not the name: an identifier the model calls back by, and a placeholder in it would break the call.
    read: (tools, text) => {
      for (const tool of tools) {
        if (tool.description) text(tool.description);
        if (tool.parameters !== undefined) forEachSchemaString(tool.parameters, text);
      }
    },
  },
  toolChoice: "`auto`, `none`, `required`, or the name of a tool, which is not read (see tools)",
  parallelToolCalls: NOT_TEXT,
  responseFormat: {
    field: "response_format",
    read: (format, text) => {
      if (format.type !== "json_schema") return;
      if (format.name) text(format.name);
      forEachSchemaString(format.schema, text);
    },
  },
  maxTokens: NOT_TEXT,
  temperature: NOT_TEXT,
  topP: NOT_TEXT,
  topK: NOT_TEXT,
  presencePenalty: NOT_TEXT,
  frequencyPenalty: NOT_TEXT,
  stop: {
    field: "stop",
    read: (stop, text) => {
      for (const sequence of stop) if (sequence !== "") text(sequence);
    },
  },
  seed: NOT_TEXT,
  reasoning: "an effort level and a token budget",
  reasoningShown: NOT_TEXT,
  user: { field: "user", read: (user, text) => text(user) },
  promptCacheKey: { field: "prompt_cache_key", read: (key, text) => text(key) },
  safetyIdentifier: { field: "safety_identifier", read: (id, text) => text(id) },
  serviceTier: "a tier's name from the provider's own short list (it refuses any other)",
  verbosity: "`low`, `medium` or `high`",
  logprobs: "a count, and the names of the client's own fields that asked",
  completion: {
    field: "suffix",
    // The prompt is the user message's text (read there); the text after token ids goes only to the
    // embedded engine, which reads the ids (every other target is given the conversation's messages).
    read: (completion, text) => {
      if (completion.suffix) text(completion.suffix);
    },
  },
  stream: NOT_TEXT,
  choice: NOT_TEXT,
  keepAliveMs: NOT_TEXT,
  contextSize: NOT_TEXT,
  fitToWindow: NOT_TEXT,
  history: "a hook that keeps a summary; the stored turns it stands for are among the messages",
  sensitivityFloor: "a level",
  declaredPrivate: "what of the request was declared private where it was kept, for the decision: sent nowhere",
  listedTools: "tool lists for the tool loop, sent nowhere: the tools it offers from them are read (see tools)",
  anthropicToolIds:
    "the client's spelling of the conversation's tool call ids, read there as identifiers: sent only for an id still in the conversation as read (a redacted one is not)",
  native: "the client's own body, read last: every string of it but the few body-strings.ts lists",
};

/**
 * Every field of the conversation's types, and how classification reads it or why not: as
 * REQUEST_FIELDS, a field added to one of them does not compile until it is listed here (and read
 * in RequestScan's constructor).
 */
export const CONVERSATION_FIELDS = {
  system: { role: "an enum", content: "text" },
  user: { role: "an enum", content: "its parts" },
  assistant: {
    role: "an enum",
    content: "its parts",
    reasoning: "each part's text",
    toolCalls: "each call's arguments (as JSON) and id",
  },
  tool: {
    role: "an enum",
    toolCallId: "an identifier",
    name: "a tool's name, not read (see REQUEST_FIELDS.tools)",
    content: "its parts (a JSON result as JSON)",
    isError: NOT_TEXT,
  },
  toolCall: { id: "an identifier", name: "a tool's name, not read", arguments: "JSON" },
  tool_definition: { name: "not read", description: "text", parameters: "every string and key", strict: NOT_TEXT },
  text: { type: "an enum", text: "text" },
  image: {
    type: "an enum",
    source: "a URL as text (signed URLs carry tokens); bytes are not text, and make the request private (imagesArePrivate)",
    detail: "an enum",
    fromHistory: NOT_TEXT,
  },
  file: {
    type: "an enum",
    mediaType: "a media type",
    data: "bytes, never sent where its text was redacted",
    filename: "text",
    text: "text; without it the file cannot be read, and makes the request private (imagesArePrivate)",
  },
  reasoning: {
    type: "an enum",
    text: "text",
    signature: "a provider's bytes (body-strings.ts, BYTES_FIELDS)",
    redactedData: "a provider's bytes",
    encryptedContent: "a provider's bytes",
    producer: "a target's name",
  },
} as const satisfies {
  system: Record<keyof SystemMessage, string>;
  user: Record<keyof UserMessage, string>;
  assistant: Record<keyof AssistantMessage, string>;
  tool: Record<keyof ToolMessage, string>;
  toolCall: Record<keyof ToolCall, string>;
  tool_definition: Record<keyof ToolDefinition, string>;
  text: Record<keyof TextPart, string>;
  image: Record<keyof ImagePart, string>;
  file: Record<keyof FilePart, string>;
  reasoning: Record<keyof ReasoningPart, string>;
};

/**
 * One request's classification: its texts listed in order first (images noted on the way), then
 * scanned whole or window by window by classifyRequest or classifyRequestInSlices. Plain calls, no
 * generators: every request to a cloud target is classified, and a generator per message and part
 * cost a small request about 25 µs, five times its detectors' work. Short strings (identifiers, a
 * setting's strings, the body's) are read together, one text per kind: a detection of its own costs
 * each a few µs, and an agent's tool schemas alone hold hundreds.
 */
class RequestScan {
  readonly pieces: Piece[] = [];
  readonly #findings: LocatedFinding[] = [];
  readonly #images: ImageLocation[] = [];
  #unreadFiles = 0;
  /** Every string listed so far, and images' and files' bytes: a body string that repeats one is not read again. */
  readonly #read = new Set<string>();
  /** The identifiers listed, read together as one piece. */
  readonly #ids: string[] = [];
  /** The values found in the canonical texts: a body string that repeats one (a system block) does not count it twice. */
  #canonicalValues: Set<string> | undefined;
  readonly #detector: SensitiveDataDetector;

  /** `readBody` false: the client's own body is left to readBodyInTurns. */
  constructor(request: ChatRequest, detector: SensitiveDataDetector, readBody = true) {
    this.#detector = detector;
    const messages = request.messages;
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as ChatRequest["messages"][number];
      switch (message.role) {
        case "system":
          this.#piece(message.content, { message: index, source: "system" }, "text");
          break;
        case "user":
          this.#parts(message.content, index, "text");
          break;
        case "assistant": {
          const reasoning = message.reasoning ?? [];
          for (let part = 0; part < reasoning.length; part++) {
            const text = (reasoning[part] as ReasoningPart).text;
            if (text !== "") this.#piece(text, { message: index, source: "reasoning", part }, "text");
          }
          this.#parts(message.content, index, "text");
          const calls = message.toolCalls ?? [];
          for (let toolCall = 0; toolCall < calls.length; toolCall++) {
            const call = calls[toolCall] as ToolCall;
            this.#piece(call.arguments, { message: index, source: "tool-call", toolCall }, "json");
            this.#id(call.id);
          }
          break;
        }
        case "tool":
          this.#id(message.toolCallId);
          this.#parts(message.content, index, "tool-result");
          break;
      }
    }
    this.#settings(request);
    if (this.#ids.length > 0) this.pieces.push({ text: this.#ids.join(PIECE_SEPARATOR), where: { source: "id" }, as: "id" });
    if (request.native !== undefined && readBody) {
      const body = this.#bodyReader();
      forEachBodyString(request.native.body, body.visit);
      body.done();
    }
  }

  /** The strings of the client's own body (see #bodyReader), read in turns of the event loop. */
  async readBodyInTurns(request: ChatRequest): Promise<void> {
    if (request.native === undefined) return;
    const body = this.#bodyReader();
    await forEachBodyStringInTurns(request.native.body, body.visit);
    body.done();
  }

  #piece(text: string, where: FindingLocation, as: Piece["as"]): void {
    this.#read.add(text);
    this.pieces.push({ text, where, as });
  }

  #id(id: string): void {
    if (id === "" || this.#read.has(id)) return;
    this.#read.add(id);
    this.#ids.push(id);
  }

  /** The canonical fields outside the conversation that a target is sent (REQUEST_FIELDS), those present only, each read as one text. */
  #settings(request: ChatRequest): void {
    for (const key in REQUEST_FIELDS) {
      const reader = REQUEST_FIELDS[key as keyof ChatRequest];
      const value = request[key as keyof ChatRequest];
      if (typeof reader === "string" || value === undefined) continue;
      const texts: string[] = [];
      (reader.read as FieldReader<unknown>)(value, (text) => {
        if (text === "") return;
        texts.push(text);
        this.#read.add(text);
      });
      if (texts.length === 0) continue;
      const text = texts.length === 1 ? (texts[0] as string) : texts.join(PIECE_SEPARATOR);
      this.pieces.push({ text, where: { source: "setting", field: reader.field }, as: "text" });
    }
  }

  /**
   * The strings of the client's own body that are not already read above (nor an image's or a file's
   * bytes): a same-wire target is sent the body as it came, unknown and wire-only fields included.
   * Identifiers are read as identifiers; short strings (keys, settings' values) together, as one text.
   */
  #bodyReader(): { visit: (text: string, kind: BodyStringKind) => void; done: () => void } {
    const read = this.#read;
    const short: string[] = [];
    const ids: string[] = [];
    const visit = (text: string, kind: BodyStringKind): void => {
      if (read.has(text) || isBytes(text)) return;
      read.add(text);
      if (kind === "id") ids.push(text);
      else if (text.length < SHORT) short.push(text);
      else this.pieces.push({ text, where: { source: "body" }, as: "text", body: true });
    };
    const done = (): void => {
      if (short.length > 0)
        this.pieces.push({ text: short.join(PIECE_SEPARATOR), where: { source: "body" }, as: "text", body: true });
      if (ids.length > 0) this.pieces.push({ text: ids.join(PIECE_SEPARATOR), where: { source: "id" }, as: "id", body: true });
    };
    return { visit, done };
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
        if (image.kind === "base64") this.#read.add(image.data);
        else if (dataUrl) this.#read.add(image.url);
        if (image.kind === "url" && !dataUrl) {
          this.#piece(image.url, { message, source: "image-url", part: index }, "text");
        }
        continue;
      }
      if (part.type === "file") {
        // A file's text is read as the text around it is; a file without text cannot be read.
        this.#read.add(part.data);
        if (part.filename) this.#piece(part.filename, { message, source, part: index }, "text");
        if (part.text === undefined) this.#unreadFiles++;
        else this.#piece(part.text, { message, source, part: index }, "text");
        continue;
      }
      const json = source === "tool-result" && isJsonDocument(part.text);
      this.#piece(part.text, { message, source, part: index }, json ? "json" : "text");
    }
  }

  /** Scans a piece whole. */
  whole(piece: Piece): void {
    const detector = this.#detector;
    const found =
      piece.as === "json"
        ? detector.detectInJson(piece.text)
        : piece.as === "id"
          ? detector.detectIdentifier(piece.text)
          : detector.detect(piece.text);
    this.#add(found, piece);
  }

  /** Scans the window of a long text piece that starts at `from` (see detectInWindow). */
  window(piece: Piece, from: number): void {
    this.#add(detectInWindow(this.#detector, piece.text, from, Math.min(piece.text.length, from + WINDOW)), piece);
  }

  #add(found: readonly Finding[], piece: Piece): void {
    const where = piece.where;
    if (piece.body) {
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
 * Every text of a request a model reads, and every string it is sent: messages, reasoning, tool-call
 * arguments and ids, tool names, the settings classification reads (REQUEST_FIELDS), every string of
 * the client's own body. Placeholders (and redacted ids' stand-ins) are chosen so as not to occur in
 * any of them.
 */
export function* requestTexts(request: ChatRequest): Generator<string> {
  for (const message of request.messages) {
    if (message.role === "system") {
      yield message.content;
      continue;
    }
    if (message.role === "tool") yield message.toolCallId;
    if (message.role === "assistant") for (const part of message.reasoning ?? []) if (part.text !== "") yield part.text;
    for (const part of message.content) {
      if (part.type === "text") yield part.text;
      else if (part.type === "file") {
        if (part.filename !== undefined) yield part.filename;
        if (part.text !== undefined) yield part.text;
      }
    }
    if (message.role === "assistant")
      for (const call of message.toolCalls ?? []) {
        yield call.arguments;
        yield call.id;
      }
  }
  const settings: string[] = [];
  for (const tool of request.tools ?? []) settings.push(tool.name);
  for (const key in REQUEST_FIELDS) {
    const reader = REQUEST_FIELDS[key as keyof ChatRequest];
    const value = request[key as keyof ChatRequest];
    if (typeof reader !== "string" && value !== undefined)
      (reader.read as FieldReader<unknown>)(value, (text) => settings.push(text));
  }
  yield* settings;
  // A same-wire target reads the client's own body, strings the canonical form does not carry included.
  if (request.native !== undefined) {
    const texts: string[] = [];
    forEachBodyString(request.native.body, (text) => texts.push(text));
    yield* texts;
  }
}

/** How deep the walk of a schema goes (the body it came in was depth-checked when parsed: 100 levels). */
const MAX_SCHEMA_DEPTH = 128;

/** Base64 of this length or longer, without spaces, is taken for bytes (a document's, an audio clip's). */
const BYTES_MIN = 1024;
const BASE64 = /^[A-Za-z0-9+/=_-]+$/;

/** Whether a string of a client's body is bytes rather than text: a data URL, or a long run of base64. */
function isBytes(text: string): boolean {
  return text.startsWith("data:") || (text.length >= BYTES_MIN && BASE64.test(text));
}

/**
 * Every non-empty string of a JSON schema (a tool's parameters, an output schema): descriptions,
 * titles, enum values, defaults, examples, patterns, and its keys, property names among them (a
 * model is sent them, and writes them back in its arguments); not its `type`s.
 */
function forEachSchemaString(schema: unknown, visit: (text: string) => void): void {
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === "string") {
      if (value !== "") visit(value);
    } else if (typeof value === "object" && value !== null && depth < MAX_SCHEMA_DEPTH) {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, depth + 1);
        return;
      }
      const object = value as Record<string, unknown>;
      for (const key in object) {
        const item = object[key];
        if (key === "type" && typeof item === "string") continue;
        if (key !== "") visit(key);
        walk(item, depth + 1);
      }
    }
  };
  walk(schema, 0);
}
