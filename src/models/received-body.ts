import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";

/** Above this many received-but-unwritten bytes the body is paused until the disk catches up. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

export interface WriteBodyHooks {
  /** Called before a chunk is written; throwing stops the transfer with that error. */
  check?: (chunk: Buffer) => void;
  /** Called once a chunk is on disk. */
  written: (chunk: Buffer) => void;
}

/**
 * A response body that is collected from the moment the response arrives. Reading it later with
 * `for await` would lose the chunks that had arrived but were not yet read when the connection
 * fails (a Readable drops its buffer when it errors, and one that failed before anyone listened
 * never says so); here every received byte is kept and written before the error is reported, so
 * a resumed download asks only for what is really missing.
 */
export class ReceivedBody {
  readonly #body: Readable;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  /** Starts collecting at once: construct it in the same tick the response arrives. */
  constructor(body: Readable) {
    this.#body = body;
    body.on("data", (chunk: Buffer) => {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued > HIGH_WATER) body.pause();
      this.#notify();
    });
    body.once("end", () => {
      this.#ended = true;
      this.#notify();
    });
    body.once("error", (error) => {
      this.#failure = { error };
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Appends the body to `handle` until it ends; throws the connection's error after writing what arrived before it. */
  async writeTo(handle: FileHandle, hooks: WriteBodyHooks): Promise<void> {
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk !== undefined) {
          this.#queued -= chunk.length;
          hooks.check?.(chunk);
          await handle.write(chunk);
          hooks.written(chunk);
          if (this.#queued < LOW_WATER && this.#body.isPaused() && !this.#ended && !this.#failure) this.#body.resume();
          continue;
        }
        if (this.#failure) throw this.#failure.error;
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } catch (err) {
      this.discard();
      throw err;
    }
  }

  /** Drops the body and closes its connection. */
  discard(): void {
    this.#queue.length = 0;
    this.#queued = 0;
    if (!this.#body.destroyed) {
      this.#body.on("error", () => {});
      this.#body.destroy();
    }
  }
}
