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
  const found: Found<JsonSpan> = {};
  const end = descend(text, skipSpace(text, from), path, 0, found, (at, leaf) => {
    const valueEnd = valueEndAt(text, at);
    if (valueEnd !== undefined) leaf.value = { start: at, end: valueEnd };
    return valueEnd;
  });
  return end === undefined ? undefined : found.value;
}

/**
 * The text of the value at `itemPath` in each element of the array at `arrayPath` (an Ollama line's
 * `message.tool_calls[i].function.arguments`), as jsonValueSpan finds it: one entry per element,
 * undefined where an element has none; undefined when the array is not there. One pass over the
 * text: it runs on every line of an answer that carries tool calls.
 */
export function jsonTextsInArray(
  text: string,
  arrayPath: ReadonlyArray<string | number>,
  itemPath: ReadonlyArray<string | number>,
): Array<string | undefined> | undefined {
  const found: Found<Array<string | undefined>> = {};
  const end = descend(text, skipSpace(text, 0), arrayPath, 0, found, (at, leaf) => {
    if (text.charCodeAt(at) !== 0x5b) return valueEndAt(text, at);
    const texts: Array<string | undefined> = [];
    const arrayEnd = forEachElement(text, at, (item) => {
      const span: Found<JsonSpan> = {};
      const itemEnd = descend(text, item, itemPath, 0, span, (value, leafSpan) => {
        const valueEnd = valueEndAt(text, value);
        if (valueEnd !== undefined) leafSpan.value = { start: value, end: valueEnd };
        return valueEnd;
      });
      texts.push(span.value === undefined ? undefined : text.slice(span.value.start, span.value.end));
      return itemEnd;
    });
    if (arrayEnd !== undefined) leaf.value = texts;
    return arrayEnd;
  });
  return end === undefined ? undefined : found.value;
}

/** Where each element of the array whose `[` is at `open` lies; undefined when the text there is not one. */
export function jsonElementSpans(text: string, open: number): JsonSpan[] | undefined {
  const spans: JsonSpan[] = [];
  const end = forEachElement(text, open, (at) => {
    const valueEnd = valueEndAt(text, at);
    if (valueEnd !== undefined) spans.push({ start: at, end: valueEnd });
    return valueEnd;
  });
  return end === undefined ? undefined : spans;
}

/** What a walk found at its path: the last value JSON.parse would keep, or nothing. */
type Found<T> = { value?: T };

/**
 * Reads the JSON value at `i` to its end (the index after it, or undefined when the text cannot be
 * read) in one pass, handing the value at `path` (from `depth` on) to `leaf`, which reads it to its
 * end and puts what it makes in the Found it is given. A subtree off the path is skipped whole; a key
 * written twice is read twice, and the later value's finding replaces the earlier, as JSON.parse keeps
 * the later.
 */
function descend<T>(
  text: string,
  i: number,
  path: ReadonlyArray<string | number>,
  depth: number,
  found: Found<T>,
  leaf: (at: number, found: Found<T>) => number | undefined,
): number | undefined {
  if (depth === path.length) return leaf(i, found);
  const step = path[depth];
  const c = text.charCodeAt(i);
  if (c === 0x7b && typeof step === "string") {
    return forEachMember(text, i, (keyStart, keyEnd, valueStart) => {
      if (!keyIs(text, keyStart, keyEnd, step)) return valueEndAt(text, valueStart);
      const inner: Found<T> = {};
      const end = descend(text, valueStart, path, depth + 1, inner, leaf);
      found.value = inner.value;
      return end;
    });
  }
  if (c === 0x5b && typeof step === "number") {
    let index = 0;
    return forEachElement(text, i, (at) =>
      index++ === step ? descend(text, at, path, depth + 1, found, leaf) : valueEndAt(text, at),
    );
  }
  return valueEndAt(text, i);
}

/** Whether the key literal from `start` to `end` (its quotes included) is `key`, as JSON.parse reads it ("mod\u0065l" is "model"). */
function keyIs(text: string, start: number, end: number, key: string): boolean {
  for (let j = start + 1; j < end - 1; j++) if (text.charCodeAt(j) === 0x5c) return JSON.parse(text.slice(start, end)) === key;
  return end - start === key.length + 2 && text.startsWith(key, start + 1);
}

/**
 * Calls `member` with each member of the object whose `{` is at `open` (its key literal's start and
 * end, and where its value starts), which reads the value and says where it ends. The index after
 * the object, or undefined when the text there is not one.
 */
function forEachMember(
  text: string,
  open: number,
  member: (keyStart: number, keyEnd: number, valueStart: number) => number | undefined,
): number | undefined {
  if (text.charCodeAt(open) !== 0x7b) return undefined;
  let i = skipSpace(text, open + 1);
  if (text.charCodeAt(i) === 0x7d) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== 0x22) return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd === undefined) return undefined;
    const colon = skipSpace(text, keyEnd);
    if (text.charCodeAt(colon) !== 0x3a) return undefined;
    const valueEnd = member(i, keyEnd, skipSpace(text, colon + 1));
    if (valueEnd === undefined) return undefined;
    i = skipSpace(text, valueEnd);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i = skipSpace(text, i + 1);
      continue;
    }
    return c === 0x7d ? i + 1 : undefined;
  }
}

/** As forEachMember, for the elements of the array whose `[` is at `open` (`element` gets where each starts). */
function forEachElement(text: string, open: number, element: (at: number) => number | undefined): number | undefined {
  if (text.charCodeAt(open) !== 0x5b) return undefined;
  let i = skipSpace(text, open + 1);
  if (text.charCodeAt(i) === 0x5d) return i + 1;
  for (;;) {
    const end = element(i);
    if (end === undefined) return undefined;
    i = skipSpace(text, end);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i = skipSpace(text, i + 1);
      continue;
    }
    return c === 0x5d ? i + 1 : undefined;
  }
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

/**
 * `written`, the text an object was parsed from, when it is one JSON object and its parsed value
 * written out again (`serialised`) is other text (an integer past 2^53, `1.10`, spacing); undefined
 * when the two are the same text (most: Ollama writes compact JSON), so that the value serialises to
 * what was written and no second parse is needed.
 */
export function writtenObjectText(written: string | undefined, serialised: string): string | undefined {
  return written === undefined || written === serialised ? undefined : jsonObjectText(written);
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
