/**
 * Parses a large JSON body in turns of the event loop. `JSON.parse` of a 30 MB text is one step of
 * 100-400 ms (more on a loaded machine, where touching fresh memory is slow), and no other client is
 * answered meanwhile. This walks the bytes itself only as far as it must: any value that ends within
 * `sliceBytes` is handed whole to the small-body parser, consecutive small members of a large array or
 * object are handed over together (one parse per slice), and only large containers and large strings
 * are taken apart here. Between slices it yields once its turn has lasted `turnMs`.
 *
 * The result is the value `JSON.parse` (through Fastify's parser) gives for the whole text: same key
 * order, duplicate keys (the last wins, at the first one's place), numbers and strings (escaped
 * surrogate pairs split between slices rejoin into the same code units; a slice never cuts a UTF-8
 * sequence or an escape). Keys `__proto__` and `constructor.prototype` are refused as that parser
 * refuses them. Nesting past `maxDepth` is refused naming the path, as the small path does.
 *
 * Two differences, both between two 400s for a body that is bad twice over: errors are found in the
 * order of the text, so a body broken before the point where it nests too deep gets the malformed-JSON
 * 400 (the small path checks depth first); and a large object whose `constructor` key comes twice is
 * judged on each value, not only on the last.
 */

import { errorCodes } from "fastify";

export type Segment = string | number;

/**
 * The body is not JSON, or holds a key the parser refuses: Fastify's own error for it (400, "Body is
 * not valid JSON but content-type is set to 'application/json'"), as the small path answers.
 */
export class InvalidJsonBody extends errorCodes.FST_ERR_CTP_INVALID_JSON_BODY {}

/** The body nests deeper than the limit; `path` leads down to the first container past it. */
export class JsonBodyTooDeep extends Error {
  constructor(readonly path: Segment[]) {
    super("JSON body nested too deeply");
  }
}

export interface IncrementalParseOptions {
  /** Parses one complete JSON text (a value, or a slice wrapped in brackets); throws on bad JSON. */
  parse: (text: string) => unknown;
  /** The deepest nesting allowed (the top-level container is level 1). */
  maxDepth: number;
  /** The keys and indices, within `text`, down to its first container past `limit` levels. */
  deepPath: (text: string, limit: number) => Segment[];
  /** Bytes of JSON text per parse. Default 256 KiB. */
  sliceBytes?: number;
  /** How long one turn may run before yielding to the event loop, in ms. Default 4. */
  turnMs?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Parses `bytes` (UTF-8 JSON text, a leading byte order mark allowed as Fastify allows it). */
export function parseJsonInTurns(bytes: Buffer, options: IncrementalParseOptions): Promise<unknown> {
  return new IncrementalParser(bytes, options).parse();
}

class IncrementalParser {
  readonly #b: Buffer;
  readonly #n: number;
  readonly #parse: (text: string) => unknown;
  readonly #maxDepth: number;
  readonly #deepPath: (text: string, limit: number) => Segment[];
  readonly #slice: number;
  readonly #turnMs: number;
  #deadline = 0;

  constructor(bytes: Buffer, options: IncrementalParseOptions) {
    this.#b = bytes;
    this.#n = bytes.length;
    this.#parse = options.parse;
    this.#maxDepth = options.maxDepth;
    this.#deepPath = options.deepPath;
    this.#slice = Math.max(64, options.sliceBytes ?? 256 * 1024);
    this.#turnMs = options.turnMs ?? 4;
  }

  async parse(): Promise<unknown> {
    this.#deadline = performance.now() + this.#turnMs;
    const b = this.#b;
    const bom = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    const start = this.#space(bom);
    if (start >= this.#n) throw new InvalidJsonBody();
    const [value, end] = await this.#value(start, 1, () => []);
    if (this.#space(end) !== this.#n) throw new InvalidJsonBody();
    return value;
  }

  /** Past its turn: wait for the next (callers check the clock first, so a member costs no await). */
  async #yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#deadline = performance.now() + this.#turnMs;
  }

  #space(i: number): number {
    const b = this.#b;
    while (i < this.#n && isSpace(b[i])) i++;
    return i;
  }

  #text(from: number, to: number): string {
    return this.#b.toString("utf8", from, to);
  }

  #parsePiece(text: string): unknown {
    try {
      return this.#parse(text);
    } catch {
      throw new InvalidJsonBody();
    }
  }

  /**
   * The index of the quote that closes the string opened at `open`, or -1 when it is not before
   * `limit` (each level of a large value asks only up to its slice, not to the end of a long string).
   */
  #stringEnd(open: number, limit = this.#n): number {
    const b = limit >= this.#n ? this.#b : this.#b.subarray(0, limit);
    let j = b.indexOf(QUOTE, open + 1);
    while (j !== -1) {
      let k = j - 1;
      while (b[k] === BACKSLASH) k--;
      // An even number of backslashes before the quote: it is not escaped.
      if ((j - 1 - k) % 2 === 0) return j;
      j = b.indexOf(QUOTE, j + 1);
    }
    if (limit >= this.#n) throw new InvalidJsonBody();
    return -1;
  }

  /**
   * Where the value at `i` ends (exclusive), or -1 when it does not end before `limit`. Containers are
   * only bracket-counted here (the parse of their text checks the rest), and their depth is checked:
   * the value's own level is `depth`, and `path` names the value for the error.
   */
  #valueEnd(i: number, depth: number, limit: number, path: () => Segment[]): number {
    const b = this.#b;
    const c = b[i];
    if (c === QUOTE) {
      const end = this.#stringEnd(i, limit);
      return end === -1 ? -1 : end + 1;
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      let d = 0;
      const stop = Math.min(limit, this.#n);
      for (let j = i; j < stop; j++) {
        const x = b[j];
        if (x === QUOTE) {
          j = this.#stringEnd(j, stop);
          if (j === -1) return -1;
        } else if (x === OPEN_ARRAY || x === OPEN_OBJECT) {
          if (depth + d > this.#maxDepth) throw this.#tooDeep(i, j, depth, path);
          d++;
        } else if (x === CLOSE_ARRAY || x === CLOSE_OBJECT) {
          if (--d === 0) return j + 1;
        }
      }
      if (stop === this.#n) throw new InvalidJsonBody();
      return -1;
    }
    // A number or a literal: up to the next delimiter (its parse checks it).
    let j = i;
    while (j < this.#n) {
      const x = b[j] as number;
      if (x === COMMA || x === CLOSE_ARRAY || x === CLOSE_OBJECT || x === COLON || x === QUOTE || isSpace(x)) break;
      if (x === OPEN_ARRAY || x === OPEN_OBJECT) break;
      j++;
    }
    if (j === i) throw new InvalidJsonBody();
    return j;
  }

  #tooDeep(start: number, at: number, depth: number, path: () => Segment[]): JsonBodyTooDeep {
    const text = this.#text(start, at + 1);
    return new JsonBodyTooDeep([...path(), ...this.#deepPath(text, this.#maxDepth - depth + 1)]);
  }

  /** The value at `i` (no space before it) at level `depth`, and the index just past it. */
  async #value(i: number, depth: number, path: () => Segment[]): Promise<[unknown, number]> {
    const end = this.#valueEnd(i, depth, i + this.#slice, path);
    if (end >= 0) return [this.#parsePiece(this.#text(i, end)), end];
    const c = this.#b[i];
    if (c === QUOTE) return this.#bigString(i);
    if (c === OPEN_ARRAY) return this.#bigArray(i, depth, path);
    return this.#bigObject(i, depth, path);
  }

  async #bigArray(open: number, depth: number, path: () => Segment[]): Promise<[unknown[], number]> {
    const b = this.#b;
    const array: unknown[] = [];
    let i = this.#space(open + 1);
    if (b[i] === CLOSE_ARRAY) return [array, i + 1];
    const run = new MemberRun(i, (from, to) => {
      const values = this.#parsePiece(`[${this.#text(from, to)}]`) as unknown[];
      for (const v of values) array.push(v);
    });
    for (;;) {
      if (performance.now() >= this.#deadline) await this.#yield();
      const index = array.length + run.pending;
      const member = () => [...path(), index];
      if (i >= this.#n) throw new InvalidJsonBody();
      let end = this.#joinRun(run, i, i, depth + 1, member);
      if (end === -1) {
        const [value, after] = await this.#value(i, depth + 1, member);
        array.push(value);
        end = after;
        run.end();
      }
      i = this.#space(end);
      if (b[i] === CLOSE_ARRAY) {
        run.flush();
        return [array, i + 1];
      }
      i = this.#nextMember(run, i);
    }
  }

  async #bigObject(open: number, depth: number, path: () => Segment[]): Promise<[Record<string, unknown>, number]> {
    const b = this.#b;
    const object: Record<string, unknown> = {};
    let i = this.#space(open + 1);
    if (b[i] === CLOSE_OBJECT) return [object, i + 1];
    const run = new MemberRun(i, (from, to) => {
      // Fastify's parser refuses `__proto__` (and `constructor.prototype`) in the run, so plain
      // assignment below sets own properties exactly as JSON.parse would.
      const values = this.#parsePiece(`{${this.#text(from, to)}}`) as Record<string, unknown>;
      for (const key of Object.keys(values)) object[key] = values[key];
    });
    for (;;) {
      if (performance.now() >= this.#deadline) await this.#yield();
      if (b[i] !== QUOTE) throw new InvalidJsonBody();
      const keyEnd = this.#stringEnd(i) + 1;
      const keyStart = i;
      let at = this.#space(keyEnd);
      if (b[at] !== COLON) throw new InvalidJsonBody();
      at = this.#space(at + 1);
      if (at >= this.#n) throw new InvalidJsonBody();
      let key: string | undefined;
      const readKey = () => {
        key ??= this.#parsePiece(this.#text(keyStart, keyEnd)) as string;
        return key;
      };
      const member = () => [...path(), readKey()];
      let end = this.#joinRun(run, i, at, depth + 1, member);
      if (end === -1) {
        const name = readKey();
        if (name === "__proto__") throw new InvalidJsonBody();
        const [value, after] = await this.#value(at, depth + 1, member);
        if (name === "constructor" && typeof value === "object" && value !== null && Object.hasOwn(value, "prototype")) {
          throw new InvalidJsonBody();
        }
        object[name] = value;
        end = after;
        run.end();
      }
      i = this.#space(end);
      if (b[i] === CLOSE_OBJECT) {
        run.flush();
        return [object, i + 1];
      }
      i = this.#nextMember(run, i);
    }
  }

  /**
   * Adds the member that starts at `from` (its value at `at`, at level `depth`) to `run` when its value
   * ends within the run's slice, and returns where the value ends; -1 when it is too big for a run of
   * its own (the caller takes it apart).
   */
  #joinRun(run: MemberRun, from: number, at: number, depth: number, path: () => Segment[]): number {
    let end = this.#valueEnd(at, depth, run.start + this.#slice, path);
    if (end === -1 && run.pending > 0) {
      // Too big to join the run: parse the run, then see whether the member fits a run of its own.
      run.restart(from);
      end = this.#valueEnd(at, depth, run.start + this.#slice, path);
    }
    if (end !== -1) run.add(end);
    return end;
  }

  /**
   * Steps over the comma at `i` to the next member, and returns where it starts. A run that has
   * reached its slice, or was ended by a member parsed on its own, is parsed and a new one starts there.
   */
  #nextMember(run: MemberRun, i: number): number {
    if (this.#b[i] !== COMMA) throw new InvalidJsonBody();
    const next = this.#space(i + 1);
    if (run.start === -1 || next - run.start >= this.#slice) run.restart(next);
    return next;
  }

  /**
   * A string longer than a slice, decoded a slice at a time. Each cut is moved back off a UTF-8
   * continuation byte and out of an escape, so every slice is a complete JSON string body.
   */
  async #bigString(open: number): Promise<[string, number]> {
    const pieces: string[] = [];
    let from = open + 1;
    for (;;) {
      if (performance.now() >= this.#deadline) await this.#yield();
      // The closing quote is looked for a slice at a time too: in the piece, or a few bytes past it.
      const close = this.#stringEnd(from - 1, Math.min(this.#n, from + this.#slice + 8));
      let to = close === -1 ? this.#cut(from, from + this.#slice) : close;
      if (close !== -1 && close > from + this.#slice) to = this.#cut(from, from + this.#slice);
      pieces.push(this.#parsePiece(`"${this.#text(from, to)}"`) as string);
      from = to;
      if (to === close) break;
    }
    // Joining writes the whole string at once: in a turn of its own.
    await this.#yield();
    const value = pieces.join("");
    await this.#yield();
    return [value, from + 1];
  }

  /** A cut at or before `to` inside a string body that splits neither a UTF-8 sequence nor an escape. */
  #cut(from: number, to: number): number {
    const b = this.#b;
    // A lead byte (or ASCII) starts a new sequence whatever came before; after three continuation
    // bytes no sequence can still be open either.
    for (let back = 0; back < 3 && ((b[to] as number) & 0xc0) === 0x80; back++) to--;
    // The last backslash within an escape's reach: if it starts an escape that reaches past the cut,
    // cut before it.
    for (let k = to - 1; k >= Math.max(from, to - 6); k--) {
      if (b[k] !== BACKSLASH) continue;
      let s = k;
      while (s > from && b[s - 1] === BACKSLASH) s--;
      if ((k - s) % 2 === 0) {
        const escapeEnd = b[k + 1] === 0x75 ? k + 6 : k + 2;
        if (escapeEnd > to) return k;
      }
      break;
    }
    return to;
  }
}

/**
 * Consecutive small members of a large array or object, not parsed yet: they are handed to the
 * small-body parser together, one parse per slice. `take` parses the text [from, to) of the members
 * and adds them to the container.
 */
class MemberRun {
  /** Where the run's first member starts; -1 once a member parsed on its own ended it. */
  start: number;
  /** How many members the run holds. */
  pending = 0;
  #lastEnd = -1;
  readonly #take: (from: number, to: number) => void;

  constructor(start: number, take: (from: number, to: number) => void) {
    this.start = start;
    this.#take = take;
  }

  /** A member whose value ends at `end` joins the run. */
  add(end: number): void {
    this.pending++;
    this.#lastEnd = end;
  }

  /** Parses the members held, if any, into the container. */
  flush(): void {
    if (this.pending === 0) return;
    this.#take(this.start, this.#lastEnd);
    this.pending = 0;
  }

  /** Parses the members held and starts a new run at `start`. */
  restart(start: number): void {
    this.flush();
    this.start = start;
  }

  /** A member was parsed on its own (the run held nothing then): the next member starts a new run. */
  end(): void {
    this.start = -1;
  }
}
