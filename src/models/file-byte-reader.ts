import { constants, type Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { GgufError } from "./gguf-error.js";

/** How much is read from disk at once. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads a file front to back through a small window, so a parser can walk a header of any size
 * without loading the file. Every read is checked against the file's size first: a length taken
 * from the file can never make it read past the end or allocate more than the file holds.
 */
export class FileByteReader {
  readonly path: string;
  /** The file's size in bytes. */
  readonly size: number;
  /** Multi-byte numbers are little-endian unless set otherwise (GGUF may be big-endian). */
  littleEndian = true;
  readonly #handle: FileHandle;
  readonly #signal: AbortSignal | undefined;
  #window: Buffer = Buffer.alloc(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  /** File offset of #window[0]. */
  #windowStart = 0;
  #position = 0;

  private constructor(path: string, handle: FileHandle, size: number, signal: AbortSignal | undefined) {
    this.path = path;
    this.#handle = handle;
    this.size = size;
    this.#signal = signal;
  }

  static async open(path: string, signal?: AbortSignal): Promise<FileByteReader> {
    signal?.throwIfAborted();
    // Checked before it is opened: opening a named pipe waits for a writer, forever, and a model
    // path read at start-up held the server there. Opened without blocking too, should a pipe take
    // the file's place between the two.
    let before: Stats;
    try {
      before = await stat(path);
    } catch (err) {
      throw new GgufError(path, `cannot open: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!before.isFile()) throw new GgufError(path, "not a regular file");
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (err) {
      throw new GgufError(path, `cannot open: ${(err as Error).message}`, undefined, { cause: err });
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new GgufError(path, "not a regular file");
      return new FileByteReader(path, handle, info.size, signal);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The offset of the next byte to be read. */
  get position(): number {
    return this.#position;
  }

  /** Bytes between the current position and the end of the file. */
  get remaining(): number {
    return this.size - this.#position;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }

  /** Fails with a clear message unless `n` more bytes exist in the file. */
  require(n: number, what: string): void {
    if (n > this.remaining) {
      throw new GgufError(
        this.path,
        `file is truncated: ${what} needs ${n} bytes but only ${this.remaining} remain of ${this.size}`,
        this.#position,
      );
    }
  }

  /** Makes the next `n` bytes readable from the window (n <= CHUNK_BYTES, or any n for one-off reads). */
  async #fill(n: number, what: string): Promise<void> {
    this.require(n, what);
    const offsetInWindow = this.#position - this.#windowStart;
    if (offsetInWindow >= 0 && offsetInWindow + n <= this.#window.length) return;
    this.#signal?.throwIfAborted();
    const length = Math.min(Math.max(n, CHUNK_BYTES), this.remaining);
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.#handle.read(buffer, filled, length - filled, this.#position + filled);
      if (bytesRead === 0) {
        // The file shrank while being read.
        throw new GgufError(this.path, `file is truncated: ${what} ends past the end of the file`, this.#position + filled);
      }
      filled += bytesRead;
    }
    this.#window = buffer;
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.#windowStart = this.#position;
  }

  /** Reads `n` bytes of fixed-size data, refilling the window only when needed. */
  async #at(n: number, what: string): Promise<number> {
    const offset = this.#position - this.#windowStart;
    if (offset < 0 || offset + n > this.#window.length) await this.#fill(n, what);
    const at = this.#position - this.#windowStart;
    this.#position += n;
    return at;
  }

  async u8(what: string): Promise<number> {
    return this.#view.getUint8(await this.#at(1, what));
  }

  async i8(what: string): Promise<number> {
    return this.#view.getInt8(await this.#at(1, what));
  }

  async u16(what: string): Promise<number> {
    return this.#view.getUint16(await this.#at(2, what), this.littleEndian);
  }

  async i16(what: string): Promise<number> {
    return this.#view.getInt16(await this.#at(2, what), this.littleEndian);
  }

  async u32(what: string): Promise<number> {
    return this.#view.getUint32(await this.#at(4, what), this.littleEndian);
  }

  async i32(what: string): Promise<number> {
    return this.#view.getInt32(await this.#at(4, what), this.littleEndian);
  }

  async u64(what: string): Promise<bigint> {
    return this.#view.getBigUint64(await this.#at(8, what), this.littleEndian);
  }

  async i64(what: string): Promise<bigint> {
    return this.#view.getBigInt64(await this.#at(8, what), this.littleEndian);
  }

  async f32(what: string): Promise<number> {
    return this.#view.getFloat32(await this.#at(4, what), this.littleEndian);
  }

  async f64(what: string): Promise<number> {
    return this.#view.getFloat64(await this.#at(8, what), this.littleEndian);
  }

  /** Reads `n` raw bytes; callers bound `n` by `remaining` (checked again here) before asking. */
  async bytes(n: number, what: string): Promise<Buffer> {
    this.require(n, what);
    if (n <= CHUNK_BYTES) {
      const at = await this.#at(n, what);
      return this.#window.subarray(at, at + n);
    }
    // A long value: read it on its own rather than growing the window.
    this.#signal?.throwIfAborted();
    const buffer = Buffer.allocUnsafe(n);
    const { bytesRead } = await this.#handle.read(buffer, 0, n, this.#position);
    if (bytesRead < n) throw new GgufError(this.path, `file is truncated: ${what} ends past the end of the file`, this.#position);
    this.#position += n;
    return buffer;
  }

  /**
   * Reads (or, without `decode`, moves past) `count` length-prefixed strings: a u64 length, then the
   * bytes. Each length is checked against the file and `maxBytes`. A synchronous loop over the
   * window, refilling only when needed: vocabularies have 100k+ entries.
   */
  async strings(count: number, what: string, maxBytes: number, decode?: (bytes: Buffer) => string): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      let at = this.#position - this.#windowStart;
      if (at < 0 || at + 8 > this.#window.length) {
        await this.#fill(8, `the length of item ${i} of ${what}`);
        at = 0;
      }
      const length = this.#view.getBigUint64(at, this.littleEndian);
      const left = this.remaining - 8;
      if (length > BigInt(left) || length > BigInt(maxBytes)) {
        const limit = length > BigInt(left) ? `but only ${left} remain in the file` : `(at most ${maxBytes} allowed)`;
        throw new GgufError(this.path, `item ${i} of ${what} claims ${length} bytes ${limit}`, this.#position);
      }
      const n = Number(length);
      if (!decode) {
        this.#position += 8 + n;
      } else if (at + 8 + n <= this.#window.length) {
        out.push(decode(this.#window.subarray(at + 8, at + 8 + n)));
        this.#position += 8 + n;
      } else {
        this.#position += 8;
        out.push(decode(await this.bytes(n, `item ${i} of ${what}`)));
      }
    }
    return out;
  }

  /** Moves past `n` bytes without reading them. */
  skip(n: number, what: string): void {
    this.require(n, what);
    this.#position += n;
  }
}
