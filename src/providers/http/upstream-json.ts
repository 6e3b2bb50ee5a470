import { editJsonTopLevel, GatewayError, isStackOverflow, JsonText, shownPath } from "../../core/index.js";

/** A request body that is JSON text already (a client's own, see editedNativeBody): sent as it is, never serialised again. */
export { JsonText };

/**
 * The client's own body text (NativeRequest.text) with `fields` set at its top level and every other
 * byte as the client wrote it; undefined when tandem has no such text, or it cannot be edited (then
 * the parsed body is serialised, as before).
 */
export function editedNativeBody(
  native: { text?: string | undefined },
  fields: ReadonlyArray<readonly [key: string, value: unknown]>,
): JsonText | undefined {
  if (native.text === undefined) return undefined;
  const text = editJsonTopLevel(
    native.text,
    fields.map(([key, value]) => [key, JSON.stringify(value)] as const),
  );
  return text === undefined ? undefined : new JsonText(text);
}

/** Bodies whose JSON text is about this long or longer are serialised and encoded in turns. */
const LARGE_BODY = 1024 * 1024;
/** Characters of JSON text per piece: one `JSON.stringify` call, or one slice of a long string. */
const PIECE = 256 * 1024;
/** How long one turn may run before yielding to the event loop, in ms. */
const TURN_MS = 4;
/** Below this many levels the walk hands a subtree to JSON.stringify whatever its size (its stack is the limit). */
const WALK_DEPTH = 64;

/**
 * The exact bytes `JSON.stringify(body)` encodes to, for an upstream request: a small body as its text
 * (the common case, one native call), a large one as UTF-8 bytes made in turns of the event loop.
 * Serialising a 30 MB body at once is one step of 100-400 ms (it writes a 30 MB string, and touching
 * that much fresh memory is slow on a loaded machine), and encoding it another; meanwhile no other
 * client is answered. Here the body is cut into pieces of about PIECE characters (a subtree, or a
 * slice of a long string), each piece is serialised and written into one buffer of the body's size,
 * and the walk yields whenever its turn has lasted TURN_MS. A request nested too deep to serialise
 * or too large to hold is the client's fault: 400/413, and nothing is sent.
 */
export async function upstreamBodyBytes(body: unknown, target: string): Promise<string | Buffer> {
  // Already JSON text (the client's own body, edited in place): sent as it is.
  if (body instanceof JsonText) return body.text;
  try {
    if (!atLeast(body, LARGE_BODY)) {
      const text = JSON.stringify(body);
      return text.length >= LARGE_BODY ? await encodeInTurns([text]) : text;
    }
    return await encodeInTurns(await stringifyInPieces(body, PIECE, true));
  } catch (err) {
    throw serializeFailure(err, target, body);
  }
}

/**
 * The JSON text of `value` as pieces whose concatenation is `JSON.stringify(value)`. Plain arrays and
 * objects too large for one piece are walked; everything else (and anything with `toJSON`) is left
 * to JSON.stringify, so what it omits, nulls or calls stays as it does.
 */
export async function stringifyInPieces(value: unknown, piece = PIECE, large = false): Promise<string[]> {
  const out: string[] = [];
  await walk(value, out, 0, { deadline: performance.now() + TURN_MS, piece }, large);
  return out;
}

/**
 * The fewest characters atLeast counts for one object member (an empty key and an empty string):
 * an object with `piece / MEMBER_CHARS` members is large by their number alone.
 */
const MEMBER_CHARS = 6;

interface Walk {
  deadline: number;
  /** Characters per piece. */
  piece: number;
}

/** `large`: the caller knows `value` is at least a piece (atLeast need not be asked again). */
async function walk(value: unknown, out: string[], depth: number, turn: Walk, large = false): Promise<void> {
  if (performance.now() >= turn.deadline) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    turn.deadline = performance.now() + TURN_MS;
  }
  if (typeof value === "string" && value.length > turn.piece) {
    // Reading it may first flatten it (a string built by concatenation is a rope until read), which
    // writes all of it at once: in a turn of its own.
    await new Promise<void>((resolve) => setImmediate(resolve));
    value.charCodeAt(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    turn.deadline = performance.now() + TURN_MS;
    out.push('"');
    for (let from = 0; from < value.length; ) {
      if (performance.now() >= turn.deadline) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turn.deadline = performance.now() + TURN_MS;
      }
      let to = Math.min(value.length, from + turn.piece);
      // Never between the halves of a surrogate pair: apart, each would be escaped as a lone one.
      const last = value.charCodeAt(to - 1);
      if (to < value.length && last >= 0xd800 && last <= 0xdbff) to--;
      out.push(JSON.stringify(value.slice(from, to)).slice(1, -1));
      from = to;
    }
    out.push('"');
    return;
  }
  // An object's keys are listed once: listing them (atLeast's `for in` does too) costs per key, and an
  // object of a few hundred thousand keys would be listed again at every check.
  const keys =
    typeof value === "object" && value !== null && !Array.isArray(value) && depth < WALK_DEPTH && isPlain(value)
      ? Object.keys(value)
      : undefined;
  if (
    depth >= WALK_DEPTH ||
    typeof value !== "object" ||
    value === null ||
    !isPlain(value) ||
    !(large || (keys !== undefined && keys.length * MEMBER_CHARS >= turn.piece) || atLeast(value, turn.piece))
  ) {
    const text = JSON.stringify(value);
    // Only a member can be left out, and the walk below never hands one over.
    out.push(text === undefined ? "null" : text);
    return;
  }
  if (Array.isArray(value)) {
    out.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(",");
      const item: unknown = value[i];
      if (item === undefined || typeof item === "function" || typeof item === "symbol") out.push("null");
      else await walk(item, out, depth + 1, turn);
    }
    out.push("]");
    return;
  }
  out.push("{");
  let first = true;
  const record = value as Record<string, unknown>;
  for (const key of keys ?? Object.keys(record)) {
    const item = record[key];
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    if (typeof item === "object" && item !== null && typeof (item as { toJSON?: unknown }).toJSON === "function") {
      // toJSON may answer undefined, which leaves the member out.
      const text = JSON.stringify(item) as string | undefined;
      if (text === undefined) continue;
      out.push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`, text);
    } else {
      out.push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      await walk(item, out, depth + 1, turn);
    }
    first = false;
  }
  out.push("}");
}

/** An array or a plain object without toJSON: what the walk takes apart (anything else JSON.stringify takes whole). */
function isPlain(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

/**
 * Whether `value`'s JSON text is at least about `limit` characters: strings count their length, other
 * nodes a few characters each. Stops as soon as it knows, so a small body costs a short walk and a
 * large one no more than `limit` worth of it.
 */
export function atLeast(value: unknown, limit: number): boolean {
  if (typeof value === "string") return value.length >= limit;
  if (typeof value !== "object" || value === null) return false;
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === "string") size += node.length + 2;
    else if (typeof node !== "object" || node === null) size += 4;
    else if (Array.isArray(node)) {
      size += node.length + 2;
      for (let i = 0; i < node.length; i++) stack.push(node[i]);
    } else {
      // Listed in one native call (a `for in` over an object of many keys costs several times as
      // much), and an object of many members is large by their number alone.
      const keys = Object.keys(node);
      if (size + keys.length * MEMBER_CHARS >= limit) return true;
      for (const key of keys) {
        size += key.length + 4;
        stack.push((node as Record<string, unknown>)[key]);
      }
    }
    if (size >= limit) return true;
  }
  return false;
}

/** Request bodies at least this large are encoded to bytes in turns of the event loop of their own. */
const ENCODE_PIECE = 256 * 1024;

/**
 * The UTF-8 bytes of `pieces` joined, written a piece at a time into one buffer of the exact size:
 * encoding 32 MB at once takes a good part of a second on a busy machine, and the buffer's fresh
 * memory is touched a piece per turn rather than all at once. The bytes then go out as they are,
 * and the egress audit hashes them directly (hashing the text would encode it all over again).
 */
async function encodeInTurns(pieces: string[]): Promise<Buffer> {
  // Long pieces are cut, never between the two halves of a surrogate pair.
  const cut: string[] = [];
  for (const piece of pieces) {
    if (piece.length <= ENCODE_PIECE) {
      cut.push(piece);
      continue;
    }
    for (let from = 0; from < piece.length; ) {
      let to = Math.min(piece.length, from + ENCODE_PIECE);
      const last = piece.charCodeAt(to - 1);
      if (to < piece.length && last >= 0xd800 && last <= 0xdbff) to--;
      cut.push(piece.slice(from, to));
      from = to;
    }
  }
  let deadline = performance.now() + TURN_MS;
  let size = 0;
  for (const piece of cut) {
    size += Buffer.byteLength(piece, "utf8");
    if (performance.now() >= deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + TURN_MS;
    }
  }
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  for (const piece of cut) {
    at += bytes.write(piece, at, "utf8");
    if (performance.now() >= deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + TURN_MS;
    }
  }
  return bytes;
}

/**
 * What a failure to serialise means: a request nested so deep that JSON.stringify overflows the
 * stack, or so large that no string holds it, is the request's fault (400/413) that no target and no
 * breaker is blamed for.
 */
export function serializeFailure(err: unknown, target: string, body?: unknown): unknown {
  if (isStackOverflow(err)) {
    // The request's own nesting was checked when it came; what is this deep now was a text in it that
    // this wire takes as JSON (a tool call's arguments, sent to Anthropic or Ollama as an object).
    const path = body === undefined ? [] : deepestPath(body, NAMED_DEPTH);
    const { shown, more } = shownPath(path);
    if (shown !== "") {
      return new GatewayError(
        "invalid_request",
        `${target}: the request is nested too deeply to send upstream: '${shown}${more}' (as that upstream is sent it: a tool call's ` +
          `arguments are sent to it as JSON) nests more than ${NAMED_DEPTH} levels deep`,
        { target, param: shown, cause: err },
      );
    }
    return new GatewayError("invalid_request", `${target}: the request is nested too deeply to send upstream`, {
      target,
      cause: err,
    });
  }
  if (err instanceof RangeError) {
    return new GatewayError("payload_too_large", `${target}: the request is too large to send upstream`, { target, cause: err });
  }
  return err;
}

/**
 * The nesting past which serializeFailure names where a body is too deep: twice a request body's own
 * limit (100, server/json-body.ts), so that a field the client nested within that limit, and a wire
 * put a few levels further down, is never named instead of the text that overflowed.
 */
const NAMED_DEPTH = 200;

/**
 * The keys and indices down to the first array or object in `value` deeper than `limit`, found
 * without recursion (the value is one that overflowed the stack); empty when there is none.
 */
function deepestPath(value: unknown, limit: number): (string | number)[] {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: at, path } = stack.pop() as { value: unknown; path: (string | number)[] };
    if (typeof at !== "object" || at === null) continue;
    if (path.length >= limit) return path;
    const entries: [string | number, unknown][] = Array.isArray(at) ? at.map((v, i) => [i, v]) : Object.entries(at);
    // Pushed last to first, so that the first deep place in the body's order is found first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string | number, unknown];
      if (typeof child === "object" && child !== null) stack.push({ value: child, path: [...path, key] });
    }
  }
  return [];
}
