/**
 * Edits of a JSON object's top-level fields made in its text, so that every other byte stays as the
 * client wrote it (its number formats, whitespace, escapes, key order): the same-wire pass-through
 * sends a client's body with only its `model` and stream fields changed. A field given is replaced
 * wherever the text has it (a key written twice: every time, so the value JSON.parse reads is the
 * new one), or added before the closing brace. Undefined when the text is not one JSON object the
 * scan can read; the caller then serialises the parsed body instead.
 */
export function editJsonTopLevel(text: string, set: ReadonlyArray<readonly [key: string, json: string]>): string | undefined {
  const fields = topLevelFields(text);
  if (fields === undefined) return undefined;
  const spans: Array<{ start: number; end: number; json: string }> = [];
  const added: string[] = [];
  for (const [key, json] of set) {
    let found = false;
    for (const field of fields.fields) {
      if (field.key !== key) continue;
      spans.push({ start: field.valueStart, end: field.valueEnd, json });
      found = true;
    }
    if (!found) added.push(`${JSON.stringify(key)}:${json}`);
  }
  spans.sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.start) + span.json;
    at = span.end;
  }
  if (added.length === 0) return out + text.slice(at);
  const joined = added.join(",");
  return out + text.slice(at, fields.close) + (fields.fields.length > 0 ? `,${joined}` : joined) + text.slice(fields.close);
}

interface TopLevel {
  fields: Array<{ key: string; valueStart: number; valueEnd: number }>;
  /** Where the object's closing brace is. */
  close: number;
}

/** The top-level fields of a JSON object's text and where each value lies; undefined when it is not one object. */
function topLevelFields(text: string): TopLevel | undefined {
  const object = objectMembers(text, skipSpace(text, 0));
  return object !== undefined && skipSpace(text, object.close + 1) === text.length ? object : undefined;
}

/** The members of the object whose `{` is at `open`, and where each value lies; undefined when the text there is not one. */
function objectMembers(text: string, open: number): TopLevel | undefined {
  if (text.charCodeAt(open) !== 0x7b) return undefined;
  let i = skipSpace(text, open + 1);
  const fields: TopLevel["fields"] = [];
  if (text.charCodeAt(i) === 0x7d) return { fields, close: i };
  for (;;) {
    if (text.charCodeAt(i) !== 0x22) return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd === undefined) return undefined;
    const rawKey = text.slice(i, keyEnd);
    // A key with escapes is read as JSON.parse reads it ("mod\u0065l" is "model").
    const key = rawKey.includes("\\") ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    const valueStart = skipSpace(text, i + 1);
    const valueEnd = valueEndAt(text, valueStart);
    if (valueEnd === undefined) return undefined;
    fields.push({ key, valueStart, valueEnd });
    i = skipSpace(text, valueEnd);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i = skipSpace(text, i + 1);
      continue;
    }
    return c === 0x7d ? { fields, close: i } : undefined;
  }
}

/** Where one JSON value lies in a text: from `start` to before `end`. */
export interface JsonSpan {
  start: number;
  end: number;
}

/**
 * Where the value at `path` (object keys and array indexes) lies inside the JSON value that starts
 * at `from` of `text` (a whole text's by default), as JSON.parse reads it: of a key written twice,
 * its last value. Undefined when the path is not there or the text cannot be read. For a value the
 * caller needs exactly as written (a tool call's arguments), where a parse would change its numbers.
 */
export function jsonValueSpan(text: string, path: ReadonlyArray<string | number>, from = 0): JsonSpan | undefined {
  let at = skipSpace(text, from);
  for (const step of path) {
    let span: JsonSpan | undefined;
    if (typeof step === "number") span = jsonElementSpans(text, at)?.[step];
    else {
      for (const field of objectMembers(text, at)?.fields ?? [])
        if (field.key === step) span = { start: field.valueStart, end: field.valueEnd };
    }
    if (span === undefined) return undefined;
    at = span.start;
  }
  const end = valueEndAt(text, at);
  return end === undefined ? undefined : { start: at, end };
}

/** Where each element of the array whose `[` is at `open` lies; undefined when the text there is not one. */
export function jsonElementSpans(text: string, open: number): JsonSpan[] | undefined {
  if (text.charCodeAt(open) !== 0x5b) return undefined;
  let i = skipSpace(text, open + 1);
  const spans: JsonSpan[] = [];
  if (text.charCodeAt(i) === 0x5d) return spans;
  for (;;) {
    const end = valueEndAt(text, i);
    if (end === undefined) return undefined;
    spans.push({ start: i, end });
    i = skipSpace(text, end);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i = skipSpace(text, i + 1);
      continue;
    }
    return c === 0x5d ? spans : undefined;
  }
}

/**
 * The text of the value at `itemPath` in each element of the array at `arrayPath` (an Ollama line's
 * `message.tool_calls[i].function.arguments`), as jsonValueSpan finds it: one entry per element,
 * undefined where an element has none; undefined when the array is not there.
 */
export function jsonTextsInArray(
  text: string,
  arrayPath: ReadonlyArray<string | number>,
  itemPath: ReadonlyArray<string | number>,
): Array<string | undefined> | undefined {
  const array = jsonValueSpan(text, arrayPath);
  const items = array === undefined ? undefined : jsonElementSpans(text, array.start);
  return items?.map((item) => {
    const span = jsonValueSpan(text, itemPath, item.start);
    return span === undefined ? undefined : text.slice(span.start, span.end);
  });
}

/**
 * `text` when it is one JSON object (JSON.parse takes it, and it is neither an array nor a
 * primitive), else undefined: what a tool call's arguments must be to be written as an object.
 */
export function jsonObjectText(text: string | undefined): string | undefined {
  if (text === undefined || text.charCodeAt(skipSpace(text, 0)) !== 0x7b) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A string literal, or whitespace between tokens: what compactJson keeps and drops. */
const SPACE_OUTSIDE_STRINGS = /("(?:[^"\\]|\\.)*")|[ \t\n\r]+/g;

/**
 * A JSON text without the whitespace between its tokens (a string's own kept), every other character
 * as written: for a value spliced into a line of NDJSON, where a line break would end the line.
 */
export function compactJson(text: string): string {
  // Most texts have none (a model's arguments, Ollama's objects): no copy is made of those.
  if (!/[ \t\n\r]/.test(text)) return text;
  return text.replace(SPACE_OUTSIDE_STRINGS, (_match, literal: string | undefined) => literal ?? "");
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** The index after the string literal that starts at `i` (a `"`): the next quote not escaped, found natively. */
function stringEnd(text: string, i: number): number | undefined {
  for (let j = text.indexOf('"', i + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    // Escaped when an odd number of backslashes stands before it.
    let slashes = 0;
    while (text.charCodeAt(j - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return j + 1;
  }
  return undefined;
}

/** The characters that matter inside an object or array: quotes and brackets (the rest is skipped natively). */
const STRUCTURE = /["{}[\]]/g;

/** The index after the JSON value that starts at `i`: a string, an object or array (to its matching close), or a literal or number. */
function valueEndAt(text: string, i: number): number | undefined {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    STRUCTURE.lastIndex = i;
    for (let found = STRUCTURE.exec(text); found !== null; found = STRUCTURE.exec(text)) {
      const j = found.index;
      const d = text.charCodeAt(j);
      if (d === 0x22) {
        const end = stringEnd(text, j);
        if (end === undefined) return undefined;
        STRUCTURE.lastIndex = end;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (--depth === 0) return j + 1;
    }
    return undefined;
  }
  let j = i;
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
  }
  return j > i ? j : undefined;
}
