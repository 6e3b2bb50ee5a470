import {
  type Batch,
  type BatchDispatch,
  BatchError,
  type Batches,
  type BatchLine,
  type BatchLineAnswer,
  type BatchLineOutcome,
  type BatchLineResult,
  type BatchListOptions,
  type BatchRecord,
  type BatchStatus,
  type BatchStore,
  type BatchUsage,
  batchLineId,
  type NewBatch,
  NO_BATCH_USAGE,
  UNFINISHED_BATCH_STATUSES,
} from "../../core/batches.js";
import { GatewayError } from "../../core/errors.js";
import type { FileSensitivity, FileStore } from "../../core/files.js";
import { makeId } from "../../core/ids.js";
import type { ListPage } from "../../core/state.js";
import { higherSensitivity } from "../../privacy/sensitivity.js";
import { batchLineUsage } from "./batch-line-usage.js";
import { batchOutputLine } from "./batch-output-line.js";
import { LineSlots } from "./line-slots.js";
import { parseBatchInput } from "./parse-batch-input.js";

export interface BatchRunnerOptions {
  store: BatchStore;
  /** The Files API's files: input files are read from it, output and error files written to it. */
  files: FileStore;
  /** Answers one line through the server's own pipeline. */
  dispatch: BatchDispatch;
  /** Lines running at once across every batch (`batches.concurrency`). */
  concurrency: number;
  /** The most lines one batch may have (`batches.maxRequests`). */
  maxRequests: number;
  /** Milliseconds since the epoch. Default: Date.now. */
  clock?: () => number;
  /** The completion window's length in seconds (`24h`). Default 86400; tests shorten it. */
  windowSeconds?: number;
  /** How long to wait before working on a batch again after the store failed under it. Default 5000 ms. */
  retryDelayMs?: number;
  /**
   * Told when work on a batch stopped on a failure (it is tried again after retryDelayMs): the error
   * itself, for the server's log to show as it shows every error (cleaned of keys and home paths).
   */
  onError?: (report: { batchId: string; error: unknown }) => void;
}

/** Why a batch's running lines were stopped. `close`: the server is stopping; the lines stay pending. */
type Stop = "cancel" | "expire" | "close" | "error";

/** A batch being worked on in this process. */
interface ActiveBatch {
  running: Set<AbortController>;
  stop?: Stop;
  failure?: unknown;
  /** Lines answered "come back later" (see comesBackLater): left unfinished, run again after retryDelayMs. */
  deferred?: number;
  /** The shortest Retry-After among those answers, in ms: the lines run again no sooner. */
  deferredFor?: number;
  timer?: NodeJS.Timeout;
  done?: Promise<void>;
}

/** Lines read from the store at a time. */
const PAGE = 64;
/** Lines at most waiting in memory for an earlier line of their conversation (see #runLines). */
const MAX_WAITING_LINES = 4 * PAGE;
/** Finished lines read at a time to write the output files. */
const OUTPUT_PAGE = 1000;
/** How a line of a file uploaded as private is named where a refusal says what the request holds (ChatRequest.declaredPrivate). */
const DECLARED_LINE = "a line of a batch input file uploaded as private";
/** Fields of a line's body that would make its answer something other than one JSON object. */
const STREAMING_FIELDS = ["stream", "stream_options", "background"];

const CANCELED: BatchLineOutcome = {
  kind: "error",
  code: "batch_cancelled",
  message: "This request was not run to its end because the batch was cancelled.",
};
const EXPIRED: BatchLineOutcome = {
  kind: "error",
  code: "batch_expired",
  message: "This request could not be executed before the completion window expired.",
};

/**
 * Runs batches: validates an input file into lines (in the background, status `validating`), sends
 * each line through the server's own pipeline (`dispatch`) with at most `concurrency` lines running
 * across every batch, records each line's outcome in the store as it comes (a line's failure is its
 * outcome, never the batch's), and at the end writes the output and error files (OpenAI's JSONL) to
 * the Files API. Cancelling stops new lines and aborts running ones; the completion window's end
 * expires the lines not run. `start()` resumes every batch a stop or a crash left unfinished: the
 * lines without an outcome run (again, for one that was running: at least once).
 */
export class BatchRunner implements Batches {
  readonly #store: BatchStore;
  readonly #files: FileStore;
  readonly #dispatch: BatchDispatch;
  readonly #slots: LineSlots;
  readonly #maxRequests: number;
  readonly #clock: () => number;
  readonly #windowSeconds: number;
  readonly #retryDelayMs: number;
  readonly #onError: (report: { batchId: string; error: unknown }) => void;
  readonly #active = new Map<string, ActiveBatch>();
  readonly #retries = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: BatchRunnerOptions) {
    this.#store = options.store;
    this.#files = options.files;
    this.#dispatch = options.dispatch;
    this.#slots = new LineSlots(options.concurrency);
    this.#maxRequests = options.maxRequests;
    this.#clock = options.clock ?? Date.now;
    this.#windowSeconds = options.windowSeconds ?? 86_400;
    this.#retryDelayMs = options.retryDelayMs ?? 5000;
    this.#onError = options.onError ?? (() => {});
  }

  now(): number {
    return Math.floor(this.#clock() / 1000);
  }

  /** Resumes every batch left unfinished (in the background). */
  async start(): Promise<void> {
    for (const batch of await this.#store.unfinishedBatches()) this.#drive(batch.id);
  }

  /** Stops working: running lines are aborted and left unfinished, for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retries) clearTimeout(timer);
    const done: Promise<void>[] = [];
    for (const active of this.#active.values()) {
      stopLines(active, "close");
      if (active.done) done.push(active.done);
    }
    await Promise.allSettled(done);
  }

  async create(input: NewBatch): Promise<Batch> {
    let sensitivity = input.sensitivity;
    let declaredPrivate = false;
    if (input.inputFileId !== undefined) {
      const file = await this.#files.getFile(input.inputFileId);
      if (file === undefined)
        throw new BatchError("not_found", `No such File object: ${input.inputFileId.slice(0, 200)}`, "input_file_id");
      if (file.purpose !== "batch") {
        throw new BatchError(
          "invalid",
          `The input file must be uploaded with purpose 'batch'; file '${file.id}' has purpose '${file.purpose}'.`,
          "input_file_id",
        );
      }
      // Neither is ever `public`, so neither is their higher one.
      sensitivity = higherSensitivity(sensitivity, file.sensitivity) as FileSensitivity | undefined;
      // The lines are the file's content: declared private where it is kept, not by the client's
      // header on this request, so redaction (which hides only what detection finds) is not enough.
      if (file.sensitivity === "private") declaredPrivate = true;
    }
    const lines = input.lines;
    if (lines !== undefined && lines.length > this.#maxRequests) {
      throw new BatchError(
        "invalid",
        `A batch may have at most ${this.#maxRequests} requests (batches.maxRequests); this one has ${lines.length}.`,
        "requests",
      );
    }
    const now = this.now();
    const record: BatchRecord = {
      id: makeId(input.idPrefix),
      endpoint: input.endpoint,
      ...(input.inputFileId !== undefined && { inputFileId: input.inputFileId }),
      completionWindow: input.completionWindow,
      status: lines === undefined ? "validating" : "in_progress",
      createdAt: now,
      expiresAt: now + this.#windowSeconds,
      ...(lines !== undefined && { inProgressAt: now }),
      ...(input.metadata !== undefined && { metadata: input.metadata }),
      usage: NO_BATCH_USAGE,
      ...(input.outputExpiresAfter !== undefined && { outputExpiresAfter: input.outputExpiresAfter }),
      ...(sensitivity !== undefined && { sensitivity }),
      ...(declaredPrivate && { declaredPrivate: true as const }),
    };
    await this.#store.createBatch(record, lines);
    const created = await this.#store.getBatch(record.id);
    if (created === undefined) throw new GatewayError("internal", "The batch was stored but could not be read back");
    this.#drive(record.id);
    return created;
  }

  get(id: string): Promise<Batch | undefined> {
    return this.#store.getBatch(id);
  }

  list(options: BatchListOptions): Promise<ListPage<Batch>> {
    return this.#store.listBatches(options);
  }

  async cancel(id: string): Promise<Batch | undefined> {
    const batch = await this.#store.updateBatch(id, { status: "cancelling", cancellingAt: this.now() }, [
      "validating",
      "in_progress",
    ]);
    if (batch !== undefined) {
      const active = this.#active.get(id);
      if (active) stopLines(active, "cancel");
      else this.#drive(id);
      return batch;
    }
    const current = await this.#store.getBatch(id);
    if (current === undefined) return undefined;
    if (current.status === "cancelling" || current.status === "cancelled") return current;
    throw new BatchError("conflict", `Cannot cancel a batch with status '${current.status}'.`);
  }

  finishedLines(id: string, afterIndex: number, limit: number) {
    return this.#store.finishedLines(id, afterIndex, limit);
  }

  async delete(id: string): Promise<boolean> {
    const batch = await this.#store.getBatch(id);
    if (batch === undefined) return false;
    if (UNFINISHED_BATCH_STATUSES.includes(batch.status)) {
      throw new BatchError(
        "conflict",
        `Cannot delete a batch that is still running (status '${batch.status}'); cancel it first.`,
      );
    }
    return this.#store.deleteBatch(id);
  }

  /** Works on a batch until it ends (or this runner closes), unless that already happens here. */
  #drive(id: string): void {
    if (this.#closed || this.#active.has(id)) return;
    const active: ActiveBatch = { running: new Set() };
    this.#active.set(id, active);
    active.done = this.#advance(id, active)
      .catch((err: unknown) => {
        if (this.#closed) return;
        this.#onError({ batchId: id, error: err });
        const delay = err instanceof LinesDeferredError ? Math.max(this.#retryDelayMs, err.waitMs) : this.#retryDelayMs;
        const timer = setTimeout(
          () => {
            this.#retries.delete(timer);
            this.#drive(id);
          },
          Math.min(delay, 2 ** 31 - 1),
        );
        timer.unref();
        this.#retries.add(timer);
      })
      .finally(() => {
        clearTimeout(active.timer);
        this.#active.delete(id);
      });
  }

  /** One step after another, each read from the store afresh, until the batch has ended. */
  async #advance(id: string, active: ActiveBatch): Promise<void> {
    for (;;) {
      if (active.stop === "close") return;
      const batch = await this.#store.getBatch(id);
      if (batch === undefined) return;
      if ((batch.status === "validating" || batch.status === "in_progress") && this.now() >= batch.expiresAt) {
        await this.#store.finishPending(id, "expired", EXPIRED);
        await this.#end(batch, "expired");
        continue;
      }
      switch (batch.status) {
        case "validating":
          await this.#validate(batch);
          break;
        case "in_progress": {
          await this.#runLines(batch, active);
          // Set while the lines ran (TypeScript's narrowing above does not know that).
          const stop = active.stop as Stop | undefined;
          if (stop === "error") throw active.failure;
          if (stop === "close") return;
          if (stop === undefined && active.deferred !== undefined) {
            // Back once the soonest Retry-After has passed, but no later than the window's end (the
            // lines then expire on time).
            const untilExpiry = Math.max(0, batch.expiresAt * 1000 - this.#clock());
            throw new LinesDeferredError(id, active.deferred, Math.min(active.deferredFor ?? 0, untilExpiry));
          }
          if (stop === "expire") {
            await this.#store.finishPending(id, "expired", EXPIRED);
            await this.#end(batch, "expired");
          } else if (stop === "cancel") {
            // Its status says `cancelling` now (cancel() stored it before it stopped the lines).
            active.stop = undefined;
          } else await this.#store.updateBatch(id, { status: "finalizing", finalizingAt: this.now() }, ["in_progress"]);
          break;
        }
        case "finalizing":
          await this.#end(batch, "completed");
          break;
        case "cancelling":
          await this.#store.finishPending(id, "canceled", CANCELED);
          await this.#end(batch, "cancelled");
          break;
        default:
          return;
      }
    }
  }

  async #validate(batch: Batch): Promise<void> {
    const content = batch.inputFileId === undefined ? undefined : await this.#files.fileContent(batch.inputFileId);
    if (content === undefined) {
      await this.#fail(batch, [
        {
          code: "file_not_found",
          message: `The input file '${batch.inputFileId}' was deleted before the batch could read it.`,
          param: "input_file_id",
        },
      ]);
      return;
    }
    const parsed = await parseBatchInput(content.data, batch.endpoint, this.#maxRequests);
    if (!parsed.ok) {
      await this.#fail(batch, parsed.errors);
      return;
    }
    await this.#store.addLines(batch.id, parsed.lines, {
      status: "in_progress",
      inProgressAt: this.now(),
      ...(parsed.model !== undefined && { model: parsed.model }),
    });
  }

  async #fail(batch: Batch, errors: NonNullable<BatchRecord["errors"]>): Promise<void> {
    await this.#store.updateBatch(batch.id, { status: "failed", failedAt: this.now(), errors }, ["validating"]);
  }

  /**
   * Runs the batch's unfinished lines, `concurrency` at most across batches, until none is left or it
   * is stopped. Lines that name one conversation run one after another, in the input's order: the
   * conversation takes one turn at a time (a second one is refused, `conversation_locked`), and each
   * turn is meant to see the ones before it. Such a line waits for the one before it without a slot
   * and without holding up the lines after it; once one is deferred ("come back later"), the rest of
   * its conversation waits with it for the next round, so the order holds.
   */
  async #runLines(batch: Batch, active: ActiveBatch): Promise<void> {
    const delay = Math.max(0, batch.expiresAt * 1000 - this.#clock());
    active.timer = setTimeout(() => stopLines(active, "expire"), Math.min(delay, 2 ** 31 - 1));
    active.timer.unref();
    const running = new Set<Promise<void>>();
    /** Per conversation, the run of its last line in this round; and those deferred for the next. */
    const lastOf = new Map<string, Promise<void>>();
    const deferredConversations = new Set<string>();
    let waiting = 0;
    let after = -1;
    const runInTurn = async (line: BatchLine, conversation: string | undefined): Promise<void> => {
      if (active.stop !== undefined) return;
      if (conversation !== undefined && deferredConversations.has(conversation)) {
        active.deferred = (active.deferred ?? 0) + 1;
        return;
      }
      const deferred = await this.#runLine(batch, line, active);
      if (deferred && conversation !== undefined) deferredConversations.add(conversation);
    };
    try {
      while (active.stop === undefined) {
        const lines = await this.#store.pendingLines(batch.id, after, PAGE);
        if (lines.length === 0) break;
        for (const line of lines) {
          while (waiting >= MAX_WAITING_LINES && running.size > 0) await Promise.race(running);
          const conversation = conversationOf(line.body);
          const before = conversation === undefined ? undefined : lastOf.get(conversation);
          let run: Promise<void>;
          if (before === undefined) {
            const release = await this.#slots.take();
            if (active.stop !== undefined) {
              release();
              break;
            }
            run = runInTurn(line, conversation).finally(release);
          } else {
            waiting += 1;
            run = before.then(async () => {
              const release = await this.#slots.take();
              waiting -= 1;
              try {
                await runInTurn(line, conversation);
              } finally {
                release();
              }
            });
          }
          after = line.index;
          const tracked: Promise<void> = run.finally(() => {
            running.delete(tracked);
            if (conversation !== undefined && lastOf.get(conversation) === tracked) lastOf.delete(conversation);
          });
          running.add(tracked);
          if (conversation !== undefined) lastOf.set(conversation, tracked);
        }
      }
    } finally {
      await Promise.all(running);
      clearTimeout(active.timer);
    }
  }

  /**
   * Sends one line and records its outcome; never rejects (a failure to record it stops the batch's
   * lines). True when the answer said to come back later: the line stays unfinished.
   */
  async #runLine(batch: Batch, line: BatchLine, active: ActiveBatch): Promise<boolean> {
    const controller = new AbortController();
    active.running.add(controller);
    let outcome: BatchLineOutcome;
    let stopped: Stop | undefined;
    try {
      const answer = await this.#dispatch({
        url: batch.endpoint,
        body: lineBody(line.body),
        ...(batch.sensitivity === "private" && { sensitivity: "private" as const }),
        ...(batch.declaredPrivate === true && { declaredPrivate: DECLARED_LINE }),
        signal: controller.signal,
      });
      outcome = { kind: "response", statusCode: answer.status, requestId: answer.requestId, body: answer.body };
      if (comesBackLater(answer) && !controller.signal.aborted) {
        // Not the line's answer: the server or its upstreams could not take it for a while (a full
        // disk under the egress audit or the store, a full local queue, a rate limit, a conversation
        // another client's turn holds). It stays unfinished and runs again.
        active.deferred = (active.deferred ?? 0) + 1;
        const wait = answer.retryAfterMs ?? 0;
        active.deferredFor = active.deferredFor === undefined ? wait : Math.min(active.deferredFor, wait);
        return true;
      }
    } catch (err) {
      outcome = { kind: "error", code: "request_failed", message: GatewayError.from(err).message };
    } finally {
      active.running.delete(controller);
      if (controller.signal.aborted) stopped = active.stop;
    }
    // The server is stopping: the line stays unfinished, and runs again at the next start.
    if (stopped === "close" || active.stop === "close") return false;
    let result: BatchLineResult;
    let usage: BatchUsage | undefined;
    if (stopped === "cancel") [result, outcome] = ["canceled", CANCELED];
    else if (stopped === "expire") [result, outcome] = ["expired", EXPIRED];
    else if (outcome.kind === "response" && outcome.statusCode >= 200 && outcome.statusCode < 300) {
      result = "succeeded";
      usage = batchLineUsage(outcome.body);
    } else result = "errored";
    try {
      await this.#store.finishLine(
        batch.id,
        { index: line.index, customId: line.customId, id: batchLineId(), result, outcome },
        usage,
      );
    } catch (err) {
      if (active.stop === undefined) {
        active.failure = err;
        stopLines(active, "error");
      }
    }
    return false;
  }

  /** Writes the output and error files (OpenAI's batches) and ends the batch as `status`. */
  async #end(batch: Batch, status: "completed" | "expired" | "cancelled"): Promise<void> {
    const files = batch.endpoint === "/v1/messages" ? {} : await this.#writeFiles(batch);
    const at = this.now();
    const stamp = status === "completed" ? { completedAt: at } : status === "expired" ? { expiredAt: at } : { cancelledAt: at };
    await this.#store.updateBatch(batch.id, { status, ...stamp, ...files }, [batch.status] as BatchStatus[]);
  }

  async #writeFiles(batch: Batch): Promise<{ outputFileId?: string; errorFileId?: string }> {
    const output: string[] = [];
    const errors: string[] = [];
    for (let after = -1; ; ) {
      const page = await this.#store.finishedLines(batch.id, after, OUTPUT_PAGE);
      if (page.length === 0) break;
      for (const line of page) (line.result === "succeeded" ? output : errors).push(batchOutputLine(line));
      after = (page.at(-1) as { index: number }).index;
    }
    const write = async (lines: string[], kind: "output" | "error") =>
      lines.length === 0
        ? undefined
        : (
            await this.#files.createFile(
              {
                filename: `${batch.id}_${kind}.jsonl`,
                purpose: "batch_output",
                mediaType: "application/jsonl",
                ...(batch.outputExpiresAfter !== undefined && { expiresAfter: batch.outputExpiresAfter }),
                ...(batch.sensitivity === "private" && { sensitivity: "private" as const }),
              },
              new TextEncoder().encode(lines.join("")),
            )
          ).id;
    const outputFileId = await write(output, "output");
    const errorFileId = await write(errors, "error");
    return { ...(outputFileId !== undefined && { outputFileId }), ...(errorFileId !== undefined && { errorFileId }) };
  }
}

/**
 * An answer that says to come back rather than what the line's request got:
 * - a 429, 503 or 529 with a Retry-After. tandem sets one only where the failure passes by itself (a
 *   full disk, every target saying when it takes requests again, a full local queue), and a 429 with
 *   one is an upstream's rate limit passed on as it came (a route of one target, or a target named
 *   directly): the same state a route of two answers as a 503 with Retry-After. The hosted batch
 *   APIs never fail a line for being rate-limited either.
 * - OpenAI's 400 `conversation_locked`: another turn (a client's, or another batch's line) holds the
 *   line's conversation, and the error itself says to retry in a few seconds.
 */
function comesBackLater(answer: BatchLineAnswer): boolean {
  if (answer.status === 400) return errorCodeOf(answer.body) === "conversation_locked";
  return (answer.status === 429 || answer.status === 503 || answer.status === 529) && answer.retryAfterMs !== undefined;
}

function errorCodeOf(body: unknown): unknown {
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** The conversation a line's body continues (`conversation`: an id or `{id}`), if any. */
function conversationOf(body: Record<string, unknown>): string | undefined {
  const conversation = body.conversation;
  if (typeof conversation === "string") return conversation;
  const id = (conversation as { id?: unknown } | null | undefined)?.id;
  return typeof id === "string" ? id : undefined;
}

/**
 * Work on a batch paused because some lines were answered "come back later"; they run again after
 * retryDelayMs, or once `waitMs` (the soonest Retry-After they were given) has passed when that is later.
 */
export class LinesDeferredError extends Error {
  override readonly name = "LinesDeferredError";
  constructor(
    batchId: string,
    lines: number,
    readonly waitMs = 0,
  ) {
    super(
      `${lines} line${lines === 1 ? "" : "s"} of batch ${batchId} could not be answered for now (a 429, 503 or 529 with Retry-After, e.g. a rate limit or a full disk, or a conversation held by another turn); ${lines === 1 ? "it stays" : "they stay"} unfinished and run${lines === 1 ? "s" : ""} again shortly`,
    );
  }
}

/** Stops a batch's lines: no new one starts, running ones are aborted. The first reason holds. */
function stopLines(active: ActiveBatch, reason: Stop): void {
  if (active.stop === undefined || reason === "close") active.stop = reason;
  for (const controller of active.running) controller.abort();
}

/** A line's body as sent: one whole JSON answer, never a stream or a background run. */
function lineBody(body: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...body };
  for (const field of STREAMING_FIELDS) delete copy[field];
  return copy;
}
