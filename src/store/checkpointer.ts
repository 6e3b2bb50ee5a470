import type { Worker } from "node:worker_threads";
import { startStoreWorker } from "./start-worker.js";

/** What the checkpoint thread is started with (workerData). */
export interface CheckpointStart {
  file: string;
  key: Uint8Array;
  intervalMs: number;
}
export type CheckpointRequest = { op: "stop" };
export type CheckpointReply =
  | { op: "ready" }
  | { op: "failed"; message: string }
  /** A checkpoint failed (reported once until one succeeds again); the thread goes on trying. */
  | { op: "error"; message: string }
  | { op: "stopped" };

export interface CheckpointerOptions extends CheckpointStart {
  /** Its connection is open: the store's own connection may stop checkpointing. */
  onReady(): void;
  /** It could not start, or stopped without being asked: the store's connection checkpoints again. */
  onGone(reason: string): void;
  /** A checkpoint failed. */
  onError(message: string): void;
}

/**
 * Checkpoints of the store's write-ahead log, on a thread of their own (checkpoint-thread.ts).
 *
 * In WAL mode a commit appends pages to `tandem.db-wal`; a checkpoint copies them into `tandem.db`
 * with two fsyncs, tens of milliseconds on a desktop disk. SQLite runs one by itself on the commit
 * that takes the log past 1000 pages, so that commit, and every request waiting behind it on the
 * store's thread (a stored response the client is waiting for), waited for those fsyncs: the p99 of
 * a stored Responses request was about 25 ms for that alone. Owned by the store's thread, which
 * turns its own automatic checkpoints off once this thread's connection is open, and back on if the
 * thread stops or cannot start: the log is always checkpointed by someone.
 */
export class Checkpointer {
  readonly #worker: Worker;
  #stopping: Promise<void> | undefined;
  #gone = false;

  constructor(options: CheckpointerOptions) {
    const { onReady, onGone, onError, ...start } = options;
    this.#worker = startStoreWorker("checkpoint-thread", start satisfies CheckpointStart);
    // It never keeps the process alive: the store's thread stops it on the way out.
    this.#worker.unref();
    const gone = (reason: string) => {
      if (this.#gone || this.#stopping) return;
      this.#gone = true;
      onGone(reason);
    };
    this.#worker.on("message", (reply: CheckpointReply) => {
      if (reply.op === "ready") onReady();
      else if (reply.op === "failed") gone(reply.message);
      else if (reply.op === "error") onError(reply.message);
    });
    this.#worker.on("error", (err) => gone(err.message));
    this.#worker.on("exit", (code) => gone(`its thread exited (code ${code})`));
  }

  /** Closes its connection and ends its thread; resolves once it has (at once if it is gone). */
  stop(): Promise<void> {
    this.#stopping ??= this.#gone
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#worker.once("exit", () => resolve());
          // Someone awaits the stop: the thread keeps the process alive until it has ended.
          this.#worker.ref();
          this.#worker.postMessage({ op: "stop" } satisfies CheckpointRequest);
        });
    return this.#stopping;
  }
}
