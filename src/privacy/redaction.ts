import { expandBatches, readsOf } from "../core/forwarding.js";
import type { TokenLogprob } from "../core/logprobs.js";
import { type AssistantMessage, type ContentPart, fileAsText, type Message } from "../core/messages.js";
import type { ChatRequest } from "../core/request.js";
import type { StreamEvent } from "../core/stream.js";
import { type RequestClassification, requestTexts } from "./classify-request.js";
import type { Finding, FindingKind } from "./finding.js";
import { FrameRestorer } from "./frame-restorer.js";
import { decodeJsonString, forEachJsonSegment, isJsonDocument, isMemberKey, isValidJson } from "./json-text.js";
import { choosePlaceholderStyle, PlaceholderTable, placeholderLabel } from "./placeholder.js";
import { PlaceholderRestorer } from "./placeholder-restorer.js";
import { ValueMatcher } from "./value-matcher.js";

type TextDelta = Extract<StreamEvent, { type: "text-delta" }>;

export interface RedactionOptions {
  /**
   * Texts the placeholders must not already occur in, so that rehydration cannot mistake the
   * user's own text for a placeholder. `Redaction.forRequest` passes every text of the request.
   * The values themselves are always included. Default none.
   */
  avoid?: Iterable<string>;
}

/** What a redaction did, for the egress audit. Counts only: never a value or a placeholder's meaning. */
export interface RedactionSummary {
  /** Distinct values that have a placeholder. */
  values: number;
  /** Distinct values per kind. */
  byKind: Record<string, number>;
  /** Occurrences replaced so far by the redact methods. */
  replacements: number;
}

/** The canonical ids and keys a redaction leaves out when they hold a value, with their OpenAI wire names (see redactRequest). */
export const DROPPED_SETTINGS = [
  ["user", "user"],
  ["promptCacheKey", "prompt_cache_key"],
  ["safetyIdentifier", "safety_identifier"],
] as const;

/** What a redacted tool call id is called, before its number: a word, so it is valid in every wire's id alphabet. */
const ID_STAND_IN = "redacted_id_";

const JSON_NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NUMBER_CHAR = /[0-9.eE+-]/;

/**
 * Reversible redaction for one request: each distinct value found gets a stable placeholder
 * (`[EMAIL_1]`; the same value always the same placeholder), `redactRequest` replaces values by
 * placeholders before a request leaves the machine, and the rehydrate methods put the values
 * back into what the model answers, including while it streams.
 *
 * Replacement is by value, not position: a detected value is replaced wherever it occurs in the
 * request, also where detection alone would not have flagged it.
 */
export class Redaction {
  readonly #placeholders = new Map<string, string>();
  readonly #kinds = new Map<string, FindingKind>();
  readonly #table = new PlaceholderTable();
  /** Finds all values, the longest first where several start at one place, so that a value containing another is replaced whole. */
  readonly #pattern: ValueMatcher | undefined;
  #replacements = 0;
  /** Ids that hold a value, and what is sent instead (see redactId). */
  readonly #ids = new Map<string, string>();
  /** The texts the stand-ins of ids must not occur in (RedactionOptions.avoid), and the prefix chosen for them once needed. */
  readonly #avoid: readonly string[];
  #idPrefix: string | undefined;

  constructor(findings: Iterable<Pick<Finding, "kind" | "value">>, options: RedactionOptions = {}) {
    for (const f of findings) {
      if (f.value !== "" && !this.#kinds.has(f.value)) this.#kinds.set(f.value, f.kind);
    }
    this.#avoid = [...(options.avoid ?? [])];
    const style = choosePlaceholderStyle([...this.#avoid, ...this.#kinds.keys()]);
    const counters = new Map<string, number>();
    for (const [value, kind] of this.#kinds) {
      const label = placeholderLabel(kind);
      const n = (counters.get(label) ?? 0) + 1;
      counters.set(label, n);
      const placeholder = style.format(label, n);
      this.#placeholders.set(value, placeholder);
      this.#table.add(placeholder, value);
    }
    this.#pattern = this.#kinds.size === 0 ? undefined : new ValueMatcher(this.#kinds.keys());
  }

  /**
   * The redaction for a classified request: every finding gets a placeholder (internal-level
   * keyword matches too; pass `classification.findings` filtered by level to redact less), and
   * placeholders avoid every text in the request.
   */
  static forRequest(request: ChatRequest, classification: Pick<RequestClassification, "findings">): Redaction {
    return new Redaction(classification.findings, { avoid: requestTexts(request) });
  }

  /** Number of distinct values redacted. */
  get size(): number {
    return this.#placeholders.size;
  }

  placeholderFor(value: string): string | undefined {
    return this.#placeholders.get(value);
  }

  /** Whether `text` holds any of the values (the redaction would change it). */
  holdsValue(text: string): boolean {
    return this.#pattern?.occursIn(text) === true;
  }

  /** `text` with every value replaced by its placeholder. */
  redactText(text: string): string {
    const pattern = this.#pattern;
    if (pattern === undefined) return text;
    return pattern.replace(text, (value) => {
      this.#replacements++;
      return this.#placeholders.get(value)!;
    });
  }

  /**
   * An id (a tool call's, on the call and on its result; an item's) that holds a value, replaced
   * whole by a stand-in of this request (`redacted_id_1`; the same id always the same one, so a call
   * and its result still pair), in the alphabet every wire takes for ids (Anthropic's is
   * `[A-Za-z0-9_-]`: a placeholder's brackets would be refused). Not restored in answers: an upstream
   * answers with ids of its own. Any other id is returned as it is.
   */
  redactId(id: string): string {
    if (!this.holdsValue(id)) return id;
    let standIn = this.#ids.get(id);
    if (standIn === undefined) {
      this.#idPrefix ??= idPrefixAvoiding(this.#avoid);
      standIn = `${this.#idPrefix}${this.#ids.size + 1}`;
      this.#ids.set(id, standIn);
    }
    this.#replacements++;
    return standIn;
  }

  /**
   * A JSON text (tool-call arguments, a JSON tool result) with values replaced inside its string
   * literals, which are re-encoded only where something changed, so the rest stays byte for
   * byte. A value that is a bare JSON number (a card number, say) becomes a quoted placeholder.
   * `ids`: members by these names hold ids, each replaced whole by redactId (a client's own body).
   */
  redactJson(json: string, ids?: ReadonlySet<string>): string {
    const pattern = this.#pattern;
    if (pattern === undefined) return json;
    // Where values occur verbatim. A literal needs decoding only if one occurs in it or it has
    // escapes (a value with quotes or non-ASCII may be written escaped); most need neither.
    const hits: number[] = [];
    pattern.forEach(json, (_value, index) => {
      hits.push(index);
      return true;
    });
    if (hits.length === 0 && !json.includes("\\")) return json;
    const valid = isValidJson(json);
    let out = "";
    let copied = 0;
    let h = 0;
    let backslash = json.indexOf("\\");
    // Whether the next literal is the string value of a member that holds an id.
    let idNext = false;
    forEachJsonSegment(json, (type, start, end) => {
      while (h < hits.length && hits[h]! < start) h++;
      if (backslash !== -1 && backslash < start) backslash = json.indexOf("\\", start);
      const hit = h < hits.length && hits[h]! < end;
      const escaped = type === "string" && backslash !== -1 && backslash < end;
      const id = idNext;
      if (ids !== undefined && type === "string")
        idNext = isMemberKey(json, end) && ids.has(decodeJsonString(json.slice(start, end)).value);
      if (!hit && !escaped) return;
      const raw = json.slice(start, end);
      let redacted: string;
      if (type === "string") {
        const { value } = decodeJsonString(raw);
        const replaced = id ? this.redactId(value) : this.redactText(value);
        redacted = replaced === value ? raw : JSON.stringify(replaced);
      } else {
        redacted = valid ? this.#redactJsonNumbers(raw) : this.redactText(raw);
      }
      if (redacted === raw) return;
      out += json.slice(copied, start) + redacted;
      copied = end;
    });
    return copied === 0 ? json : out + json.slice(copied);
  }

  /**
   * A redacted copy of a JSON value (a client's own request body, on the same-wire path; a schema):
   * values replaced in every string, keys included, in every position, the rest as it was. `ids`:
   * as redactJson's.
   */
  redactJsonValue<T>(value: T, ids?: ReadonlySet<string>): T {
    if (this.#pattern === undefined) return value;
    return JSON.parse(this.redactJson(JSON.stringify(value), ids)) as T;
  }

  #redactJsonNumbers(raw: string): string {
    return this.#pattern!.replace(raw, (value, offset) => {
      const whole = !NUMBER_CHAR.test(raw[offset - 1] ?? " ") && !NUMBER_CHAR.test(raw[offset + value.length] ?? " ");
      if (!whole || !JSON_NUMBER.test(value)) return value;
      this.#replacements++;
      return JSON.stringify(this.#placeholders.get(value));
    });
  }

  /**
   * A redacted deep copy of `request`: system prompts, text parts, reasoning, tool-call arguments
   * (kept valid JSON), tool results, files' names, tool definitions (description and every string
   * and property name of the parameter schema; not the name, which the model calls the tool by) and
   * the output schema. A tool call's id that holds a value is replaced whole (redactId), on the call
   * and on its result. An id or key the client sends its provider (`user`, `promptCacheKey`,
   * `safetyIdentifier`) that holds a value is left out rather than sent with a placeholder (which
   * would make every such request one user, or one cache), and so is a stop sequence that holds one
   * (a placeholder would stop the model on the placeholder, which it never writes where the value
   * would be): the field's wire name (`user`, `prompt_cache_key`, `safety_identifier`, `stop`) is
   * pushed to `dropped` (see clientFieldName). The input is never modified. Images are copied
   * unchanged: their content cannot be redacted, so whether they may leave is the caller's decision.
   */
  redactRequest(request: ChatRequest, dropped?: string[]): ChatRequest {
    const { messages, ...rest } = request;
    const copy: ChatRequest = { ...structuredClone(rest), messages: messages.map((m) => this.#redactMessage(m)) };
    if (this.#pattern === undefined) return copy;
    if (copy.tools !== undefined) {
      copy.tools = copy.tools.map((tool) => ({
        ...tool,
        ...(tool.description !== undefined && { description: this.redactText(tool.description) }),
        ...(tool.parameters !== undefined && { parameters: this.redactJsonValue(tool.parameters) }),
      }));
    }
    if (copy.responseFormat?.type === "json_schema") {
      const format = copy.responseFormat;
      copy.responseFormat = {
        ...format,
        ...(format.name !== undefined && { name: this.redactText(format.name) }),
        schema: this.redactJsonValue(format.schema),
      };
    }
    // A raw prompt is the user message's text (redacted above) and its fill-in-the-middle suffix; its
    // token ids (and the text a continuation put after them) say the prompt unredacted, so they go.
    if (copy.completion !== undefined) {
      const { prompt, suffix, tokens: _ids, tokensThen: _then, ...rest } = copy.completion;
      copy.completion = {
        ...rest,
        prompt: this.redactText(prompt),
        ...(suffix !== undefined && { suffix: this.redactText(suffix) }),
      };
    }
    for (const [field, wire] of DROPPED_SETTINGS) {
      const value = copy[field];
      if (value === undefined || !this.holdsValue(value)) continue;
      delete copy[field];
      dropped?.push(wire);
    }
    if (leaveOutHeldStops(copy, "stop", this)) dropped?.push("stop");
    return copy;
  }

  #redactMessage(message: Message): Message {
    switch (message.role) {
      case "system":
        return { ...message, content: this.redactText(message.content) };
      case "user":
        return { ...message, content: this.#redactParts(message.content, false) };
      case "assistant": {
        const copy: AssistantMessage = { ...message, content: this.#redactParts(message.content, false) };
        // Privacy first: redacted reasoning text may no longer match its signature (the upstream then refuses it).
        if (message.reasoning !== undefined)
          copy.reasoning = message.reasoning.map((part) => ({ ...part, text: this.redactText(part.text) }));
        if (message.toolCalls !== undefined) {
          copy.toolCalls = message.toolCalls.map((call) => ({
            ...call,
            id: this.redactId(call.id),
            arguments: this.redactJson(call.arguments),
          }));
        }
        return copy;
      }
      case "tool":
        return { ...message, toolCallId: this.redactId(message.toolCallId), content: this.#redactParts(message.content, true) };
    }
  }

  #redactParts(parts: readonly ContentPart[], toolResult: boolean): ContentPart[] {
    return parts.map((part) => {
      if (part.type === "image") return { ...part, source: { ...part.source } };
      if (part.type === "file") {
        const filename = part.filename === undefined ? undefined : this.redactText(part.filename);
        const named = filename === undefined ? { ...part } : { ...part, filename };
        if (part.text === undefined) return named;
        const redacted = this.redactText(part.text);
        // Bytes cannot be redacted: a file whose text had values replaced goes as that text only.
        return redacted === part.text ? named : { type: "text", text: fileAsText(filename, redacted) };
      }
      const text = toolResult && isJsonDocument(part.text) ? this.redactJson(part.text) : this.redactText(part.text);
      return { ...part, text };
    });
  }

  /** A restorer for text that arrives in pieces; `json` for tool-call arguments. */
  createRestorer(mode: "text" | "json" = "text"): PlaceholderRestorer {
    return new PlaceholderRestorer(this.#table, mode);
  }

  /** `text` with placeholders (matched case-insensitively) replaced by their values. Unknown placeholders stay. */
  rehydrateText(text: string): string {
    if (this.#table.size === 0) return text;
    const restorer = this.createRestorer("text");
    return restorer.push(text) + restorer.flush();
  }

  /** Tool-call arguments with values restored, escaped inside JSON strings so the JSON stays valid. */
  rehydrateJson(json: string): string {
    if (this.#table.size === 0) return json;
    const restorer = this.createRestorer("json");
    return restorer.push(json) + restorer.flush();
  }

  /**
   * The model's stream with values restored in `text-delta` and in each tool call's
   * `tool-call-delta` events, also when a placeholder is split across chunks. Only a tail that
   * could still become a placeholder is held back; it is released as soon as it cannot, and
   * flushed before `tool-call-start` and `switch` (text), at that call's `tool-call-end`, at
   * `finish` and when the stream ends. Every other event passes through unchanged and in order.
   * Stopping the iteration early stops the source.
   */
  rehydrateStream(events: AsyncIterable<StreamEvent>): AsyncIterable<StreamEvent> {
    if (this.#table.size === 0) return events;
    const text = this.createRestorer("text");
    const reasoning = this.createRestorer("text");
    const calls = new Map<number, PlaceholderRestorer>();
    let frames: FrameRestorer | undefined;
    // Whether the text held back is a refusal's (see StreamEvent text-delta), which it stays.
    let refusal = false;
    // Token logprobs of text held back: they go with the text that is released next (the tokens are
    // those the target wrote, placeholders and all; the restored text need not split the same way).
    let heldLogprobs: TokenLogprob[] | undefined;
    function* flushText(): Generator<StreamEvent> {
      const rest = text.flush();
      const logprobs = heldLogprobs;
      heldLogprobs = undefined;
      if (rest === "" && logprobs === undefined) return;
      const event: TextDelta = refusal ? { type: "text-delta", text: rest, refusal: true } : { type: "text-delta", text: rest };
      if (logprobs !== undefined) event.logprobs = logprobs;
      yield event;
    }
    function* flushReasoning(): Generator<StreamEvent> {
      const rest = reasoning.flush();
      if (rest !== "") yield { type: "reasoning-delta", text: rest };
    }
    function* flushCall(index: number): Generator<StreamEvent> {
      const restorer = calls.get(index);
      calls.delete(index);
      const rest = restorer?.flush() ?? "";
      if (rest !== "") yield { type: "tool-call-delta", index, argumentsDelta: rest };
    }
    function* flushAll(): Generator<StreamEvent> {
      yield* flushReasoning();
      yield* flushText();
      for (const index of [...calls.keys()]) yield* flushCall(index);
      if (frames) yield* frames.flush();
    }

    const createRestorer = (kind: "text" | "json") => this.createRestorer(kind);
    const frameRestorer = () => new FrameRestorer(this);
    const restore = function* (event: StreamEvent): Generator<StreamEvent> {
      switch (event.type) {
        case "reasoning-delta": {
          const out = reasoning.push(event.text);
          if (out !== "") yield { ...event, text: out };
          break;
        }
        case "reasoning-signature":
        case "reasoning-redacted":
        case "reasoning-encrypted":
          // They close the block: its text comes first.
          yield* flushReasoning();
          yield event;
          break;
        case "text-delta": {
          // The reasoning comes before the answer: what it held back goes first.
          yield* flushReasoning();
          if ((event.refusal === true) !== refusal) yield* flushText();
          refusal = event.refusal === true;
          const out = text.push(event.text);
          if (event.logprobs !== undefined) heldLogprobs = heldLogprobs ? [...heldLogprobs, ...event.logprobs] : event.logprobs;
          if (out === "") break;
          const restored: TextDelta = { ...event, text: out };
          if (heldLogprobs !== undefined) restored.logprobs = heldLogprobs;
          heldLogprobs = undefined;
          yield restored;
          break;
        }
        case "tool-call-start":
          yield* flushReasoning();
          yield* flushText();
          calls.set(event.index, createRestorer("json"));
          yield event;
          break;
        case "tool-call-delta": {
          let restorer = calls.get(event.index);
          if (restorer === undefined) {
            restorer = createRestorer("json");
            calls.set(event.index, restorer);
          }
          const out = restorer.push(event.argumentsDelta);
          if (out !== "") yield { ...event, argumentsDelta: out };
          break;
        }
        case "tool-call-end":
          yield* flushCall(event.index);
          yield event;
          break;
        case "finish":
        case "switch":
          yield* flushAll();
          yield event;
          break;
        case "frame":
          frames ??= frameRestorer();
          yield* frames.push(event);
          break;
        default:
          yield event;
      }
    };
    // An upstream read's events are restored together and passed on as one batch (see ReadyStream).
    return expandBatches<StreamEvent[], StreamEvent>(
      readsOf(events),
      (batch, out) => {
        for (const event of batch) for (const restored of restore(event)) out.push(restored);
        return undefined;
      },
      (out) => {
        for (const restored of flushAll()) out.push(restored);
      },
    );
  }

  summary(): RedactionSummary {
    const byKind: Record<string, number> = {};
    for (const kind of this.#kinds.values()) byKind[kind] = (byKind[kind] ?? 0) + 1;
    return { values: this.#placeholders.size, byKind, replacements: this.#replacements };
  }
}

/**
 * Leaves out of `holder[field]` (a stop sequence, or a list of them: the canonical `stop`, a client's
 * own `stop`, `stop_sequences` or `options.stop`) those that hold a value, and the field when none is
 * left, since a placeholder would stop the model on text it never writes where the value would be;
 * whether any was left out.
 */
export function leaveOutHeldStops<K extends string>(
  holder: Partial<Record<K, unknown>>,
  field: K,
  redaction: Redaction,
): boolean {
  const stop = holder[field];
  if (typeof stop === "string") {
    if (!redaction.holdsValue(stop)) return false;
    delete holder[field];
    return true;
  }
  if (!Array.isArray(stop)) return false;
  const kept = stop.filter((sequence) => typeof sequence !== "string" || !redaction.holdsValue(sequence));
  if (kept.length === stop.length) return false;
  if (kept.length > 0) holder[field] = kept;
  else delete holder[field];
  return true;
}

/** ID_STAND_IN, or the first of `redacted_id_r1_`, `redacted_id_r2_`... that none of `texts` holds, so a stand-in never equals an id of the request. */
function idPrefixAvoiding(texts: readonly string[]): string {
  for (let n = 0; ; n++) {
    const prefix = n === 0 ? ID_STAND_IN : `${ID_STAND_IN}r${n}_`;
    if (!texts.some((text) => text.includes(prefix))) return prefix;
  }
}
