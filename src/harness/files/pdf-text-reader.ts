import type { Worker } from "node:worker_threads";
import type { DocumentText } from "../../core/files.js";
import { startWorkerModule } from "../../store/start-worker.js";
import type { PdfTextReply, PdfTextRequest } from "./pdf-text-protocol.js";

/** How long one PDF may take before its reading is given up (the thread is stopped and made anew). Default 30 s. */
const DEFAULT_TIMEOUT_MS = 30_000;

interface Waiting {
  resolve: (text: string | undefined) => void;
  timer: NodeJS.Timeout;
}

/**
 * PDFs' text for the targets that cannot read a PDF and for privacy classification, read on a worker
 * thread of its own (started at the first PDF, idle threads do not keep the process alive): pdf.js
 * parses on the thread that calls it, and a large document must not hold up the streams the server
 * relays. A document that takes longer than `timeoutMs` (a damaged or hostile file) gives no text,
 * and the thread is stopped and started anew for the next; a caller whose signal aborts stops
 * waiting at once (its document is still timed).
 */
export class PdfTextReader {
  readonly #timeoutMs: number;
  readonly #module: URL;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  /** `thread`: the thread's module (as built, `….js`); a test gives one of its own. Default pdf-text-thread. */
  constructor(options: { timeoutMs?: number; thread?: URL } = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#module = options.thread ?? new URL("./pdf-text-thread.js", import.meta.url);
  }

  /** The DocumentText of the Files services: a PDF's text, `undefined` for anything else. */
  readonly text: DocumentText = (data, mediaType, signal) => {
    if (mediaType !== "application/pdf") return Promise.resolve(undefined);
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const worker = this.#thread();
      // The caller stops waiting; the document stays timed, so one that never ends (a hostile PDF
      // whose client left) still has its thread replaced rather than spinning on it for ever.
      const onAbort = () => reject(signal?.reason);
      const timer = setTimeout(() => {
        // Whatever is under way on the thread is given up with it: its callers get no text.
        this.#restart();
      }, this.#timeoutMs);
      this.#waiting.set(id, {
        resolve: (text) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(text);
        },
        timer,
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.ref();
      const copy = new Uint8Array(data);
      worker.postMessage({ id, data: copy } satisfies PdfTextRequest, [copy.buffer]);
    });
  };

  /** Stops the thread; what is waiting gets no text. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    for (const id of [...this.#waiting.keys()]) this.#settle(id, undefined);
    await worker?.terminate();
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorkerModule(this.#module);
    worker.on("message", (reply: PdfTextReply) => this.#settle(reply.id, reply.text));
    worker.on("error", () => this.#restart());
    worker.on("exit", () => {
      if (this.#worker === worker) this.#worker = undefined;
    });
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #settle(id: number, text: string | undefined): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.resolve(text);
    if (this.#waiting.size === 0) this.#worker?.unref();
  }

  #restart(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    for (const id of [...this.#waiting.keys()]) this.#settle(id, undefined);
    void worker?.terminate();
  }
}
