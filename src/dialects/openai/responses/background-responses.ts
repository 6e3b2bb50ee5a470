import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply } from "fastify";
import { GatewayError, isStoreFailure, makeId, unixSeconds } from "../../../core/index.js";
import {
  type ItemSensitivity,
  type StateItem,
  type StateStore,
  type StoredItem,
  type StoredResponse,
  UNFINISHED_RESPONSE_STATUSES,
} from "../../../core/state.js";
import { higherSensitivity } from "../../../privacy/index.js";
import type { Loopback } from "../../shared/index.js";
import type { TurnHold } from "../state/index.js";
import { runLoopbackTurn } from "./loopback-turn.js";
import type { ParsedResponsesRequest } from "./parse-responses-request.js";
import { tokenOfProcessHeader } from "./process-secret-header.js";
import { renderResponse, responseErrorCode } from "./render-response.js";
import { StreamedOutput } from "./streamed-output.js";

/** A background run's turn: the run's id and time, and where the turn says what it saved as it began. */
export interface RunIdentity {
  id: string;
  createdAt: number;
  started(record: StoredResponse | undefined): void;
  /** The run's conversation, taken when the run was accepted: its turn runs under it (ConversationTurns). */
  hold?: TurnHold | undefined;
  /** The id of the client's request that started the run (its `x-request-id`): the turn's log line names it. */
  startedBy: string | undefined;
}

/** The header that marks a turn as a background run's own (its value holds a secret of this process). */
const RUN_HEADER = "x-tandem-background-run";
/** Background responses running at once; more is a 429 until one finishes. */
const MAX_RUNNING = 32;
/** Finished runs whose events are kept for GET ?stream=true (the oldest go first). */
const MAX_FINISHED = 64;
/**
 * The most event bytes the finished runs keep together (the oldest runs' events go first): 64 runs of
 * long answers, each event a few hundred bytes, would otherwise hold gigabytes.
 */
const MAX_FINISHED_EVENT_BYTES = 64 * 1024 * 1024;
const TERMINAL = new Set(["completed", "incomplete", "failed", "cancelled"]);
/** How long a background run keeps asking again while its turn is answered "come back later". */
const COME_BACK_FOR_MS = 10 * 60_000;
/** The events that end a turn's stream (after which its response is stored). */
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);
/**
 * The event that ends a cancelled run's streams, its Response (`cancelled`) in it. OpenAI documents
 * none for a stream of a cancelled background response, and its SDKs' event unions have no
 * `response.cancelled`: openai-node's ResponseStream throws on an event type it does not know, while
 * it takes any lifecycle event's Response as the final one. `response.incomplete` says the run ended
 * without finishing and, unlike `response.failed`, does not read as an error with no `error` in it.
 */
const CANCELLED_EVENT = "response.incomplete";

/** One background response: its Response object as it stands, and every event it has streamed. */
export class BackgroundRun {
  readonly id: string;
  readonly createdAt: number;
  response: Record<string, unknown>;
  /** Each event's type and JSON, in order (sequence numbers from 0): add them with `push`. */
  readonly events: Array<{ type: string; data: string }> = [];
  /** The characters of its events' JSON (what keeping them costs). */
  eventChars = 0;
  finished = false;
  /** Whether its turn sent its final event (and so stored the response itself). */
  turnEnded = false;
  /** What its turn saved as it began (PendingResponse.keepStarted): its input and place in a chain, kept however the run ends. */
  started: StoredResponse | undefined;
  readonly #listeners = new Set<() => void>();
  readonly controller = new AbortController();
  /** Its conversation, held from its acceptance until it has ended (ConversationTurns). */
  hold: TurnHold | undefined;
  /** The id of the client's request that started it. */
  startedBy: string | undefined;
  /** The output its streams have been given so far, so that a run stopped mid-answer closes what it opened. */
  readonly streamed = new StreamedOutput();

  constructor(id: string, createdAt: number, queued: Record<string, unknown>) {
    this.id = id;
    this.createdAt = createdAt;
    this.response = queued;
  }

  get status(): string {
    return String(this.response.status);
  }

  push(type: string, data: string): void {
    this.events.push({ type, data });
    this.eventChars += data.length;
  }

  /** Calls `listener` on every new event and at the end, until the returned function is called. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/**
 * Background responses (`background: true`): the request is answered at once with the Response
 * `queued`, and the turn runs as a POST /v1/responses of its own through this server (the
 * Loopback), so it takes every step any turn takes and is stored as any stored response is; the
 * client polls GET /v1/responses/{id}, streams its events (again, from any point, while tandem keeps
 * them), or cancels it. A run's turn knows its id and time from a header that only this process can
 * write (a secret in it), so its stored response, events and retrieval agree.
 *
 * The store knows every run from its start: the Response `queued` is saved before the client gets its
 * id, the turn saves it finished, and a run that ends without its turn saying so (cancelled, refused,
 * cut off) is saved as it ended. A run still `queued` in the store that no run of this process
 * answers was under way when tandem stopped: it is read as failed (`interrupted`).
 */
export class BackgroundResponses {
  readonly #loopback: Loopback;
  readonly #state: StateStore;
  readonly #secret = makeId("", 32);
  readonly #runs = new Map<string, BackgroundRun>();
  readonly #maxFinishedEventBytes: number;

  /** `maxFinishedEventBytes`: default MAX_FINISHED_EVENT_BYTES (tests say less). */
  constructor(loopback: Loopback, state: StateStore, options: { maxFinishedEventBytes?: number } = {}) {
    this.#loopback = loopback;
    this.#state = state;
    this.#maxFinishedEventBytes = options.maxFinishedEventBytes ?? MAX_FINISHED_EVENT_BYTES;
  }

  /**
   * The id and creation time a turn must take when its headers say it is a background run's own.
   * A run's own turn whose run was cancelled or deleted before the turn got here is refused: taken
   * for a client's request, its `background: true` would start another run, under a new id, of a
   * response the client has just deleted.
   */
  claim(headers: IncomingHttpHeaders): RunIdentity | undefined {
    const id = tokenOfProcessHeader(headers[RUN_HEADER], this.#secret);
    if (id === undefined) return undefined;
    const run = this.#runs.get(id);
    if (run === undefined || run.finished || run.controller.signal.aborted) {
      throw new GatewayError("canceled", "This background response was cancelled or deleted before its turn started");
    }
    return {
      id,
      createdAt: run.createdAt,
      started: (record) => {
        run.started = record;
      },
      hold: run.hold,
      startedBy: run.startedBy,
    };
  }

  get(id: string): BackgroundRun | undefined {
    return this.#runs.get(id);
  }

  /**
   * Starts a background response for this request (its body and headers as the client sent them),
   * once its Response `queued` is in the store. `hold`: its conversation, taken by the caller, which the
   * run releases as it ends (the caller does, when this throws). `requestId`: the client's request's
   * id, which the run's turn logs as `startedBy`.
   */
  async start(
    body: unknown,
    parsed: ParsedResponsesRequest,
    headers: IncomingHttpHeaders,
    hold?: TurnHold,
    requestId?: string,
  ): Promise<BackgroundRun> {
    let running = 0;
    for (const run of this.#runs.values()) if (!run.finished) running++;
    if (running >= MAX_RUNNING) {
      throw new GatewayError(
        "rate_limited",
        `${MAX_RUNNING} background responses are running already: wait for one to finish (or cancel one) and try again`,
        { retryAfterMs: 1000 },
      );
    }
    const id = makeId("resp_", 48);
    const createdAt = unixSeconds();
    const queued = renderResponse({ id, createdAt, model: parsed.chat.model }, parsed.echo, {
      status: "queued",
      output: [],
      usage: undefined,
    });
    const run = new BackgroundRun(id, createdAt, queued);
    run.hold = hold;
    run.startedBy = requestId;
    // As OpenAI streams a background response: created and queued first, then the turn's own events.
    for (const type of ["response.created", "response.queued"]) {
      run.push(type, JSON.stringify({ type, sequence_number: run.events.length, response: queued }));
    }
    this.#runs.set(id, run);
    try {
      await this.#state.saveResponse({ id, createdAt, response: queued, input: [], output: [] });
    } catch (err) {
      this.#runs.delete(id);
      throw err;
    }
    // The run's own header last: a client's forged one is replaced.
    void this.#drive(run, body as Record<string, unknown>, { ...headers, [RUN_HEADER]: `${this.#secret} ${id}` });
    return run;
  }

  /**
   * Cancels a run that has not finished; its Response says `cancelled`. What its turn had streamed is
   * kept: the items it left open are closed now (nothing the turn says after is streamed), as
   * `incomplete` with what they got, and the Response lists every item its streams were given.
   */
  cancel(run: BackgroundRun): void {
    if (run.finished) return;
    const output = run.turnEnded ? run.response.output : this.#closeStreamed(run);
    run.response = { ...run.response, status: "cancelled", output };
    run.controller.abort(new Error("cancelled"));
    run.notify();
  }

  /**
   * A stored background response as it stands: one this process is not running and that is still
   * `queued` or `in_progress` in the store was under way when tandem stopped (or its end could not be
   * saved, a full disk, and the run has since been forgotten), and is failed now
   * (saved so, so that every later read agrees; a store that cannot take the save, a full disk,
   * does not fail the read: the next one finds it unfinished and fails it the same way).
   */
  async settled(stored: StoredResponse): Promise<Record<string, unknown>> {
    const { response } = stored;
    if (response.background !== true || !UNFINISHED_RESPONSE_STATUSES.has(String(response.status))) return response;
    if (this.#runs.has(stored.id)) return response;
    const failed = {
      ...response,
      status: "failed",
      error: {
        code: "server_error",
        message: "this background response did not finish in the store: tandem stopped, or its store could not save the end",
      },
    };
    try {
      await this.#state.saveResponse({ ...stored, response: failed });
    } catch (err) {
      if (!isStoreFailure(err)) throw err;
    }
    return failed;
  }

  /** Forgets a run (cancelling it first): DELETE /v1/responses/{id}. */
  delete(run: BackgroundRun): void {
    this.cancel(run);
    this.#runs.delete(run.id);
  }

  async #drive(run: BackgroundRun, body: Record<string, unknown>, headers: IncomingHttpHeaders): Promise<void> {
    try {
      const waitUntil = Date.now() + COME_BACK_FOR_MS;
      let outcome: Awaited<ReturnType<typeof runLoopbackTurn>>;
      for (;;) {
        outcome = await runLoopbackTurn(
          this.#loopback,
          headers,
          body,
          (data) => this.#record(run, data),
          run.controller.signal,
          // No client waits for the turn: tandem's shutdown ends it as it begins, stored failed (and streamed so).
          { detached: true },
        );
        // A turn refused with "come back later" (a 503 or 529 with Retry-After: a full disk under the
        // egress audit, a full local queue) is asked again, as a client would, rather than failed for good.
        const retryAfterMs = outcome.kind === "refused" ? comeBackAfterMs(outcome.status, outcome.headers) : undefined;
        if (retryAfterMs === undefined || run.controller.signal.aborted || Date.now() + retryAfterMs > waitUntil) break;
        if (!(await waitOrAbort(retryAfterMs, run.controller.signal))) break;
      }
      if (outcome.kind === "refused" && !run.controller.signal.aborted) {
        const error = (outcome.body as { error?: { code?: unknown; message?: unknown; param?: unknown } } | undefined)?.error;
        const code = String(error?.code ?? "server_error");
        const message = String(error?.message ?? `The turn was refused (${outcome.status})`);
        // The stream's `error` event has the refusal's own code (`shutting_down`), as the turn's stream would.
        this.#fail(run, responseErrorCode(code), message, {
          code,
          param: typeof error?.param === "string" ? error.param : null,
        });
      }
    } catch {
      if (!run.controller.signal.aborted)
        this.#fail(
          run,
          "server_error",
          "The background response stopped before it finished (tandem stopped, or its turn was cut off)",
        );
    } finally {
      // A turn that ended without its final event (cancelled, or cut off) is not left running.
      if (!TERMINAL.has(run.status)) this.#fail(run, "server_error", "The background response ended before it finished");
      // A cancelled run's streams end too, with its Response as it is kept, so a client streaming it
      // (live or again) is told it was cancelled rather than left with a stream that just stops.
      if (run.status === "cancelled") this.#endCancelled(run);
      // The turn stored what it said; how the run ended otherwise is stored here (deleted: nothing).
      if ((!run.turnEnded || run.status === "cancelled") && this.#runs.has(run.id)) await this.#keep(run);
      run.finished = true;
      run.hold?.release();
      run.notify();
      this.#prune();
    }
  }

  #record(run: BackgroundRun, data: string): void {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    // The run said `response.created` when it was queued; the turn's own is not said twice.
    if (event.type === "response.created") return;
    if (FINAL_EVENTS.has(String(event.type))) run.turnEnded = true;
    // A cancelled run stays cancelled whatever its turn says after, and its streams end with its
    // cancellation (#drive): what the turn says after is not streamed.
    if (run.status === "cancelled") return;
    const response = event.response;
    if (response !== null && typeof response === "object") run.response = response as Record<string, unknown>;
    run.streamed.see(event);
    // Numbered on from the run's own events, so that `starting_after` means the same in every stream of it.
    const numbered = { ...event, sequence_number: run.events.length };
    run.push(String(event.type), JSON.stringify(numbered));
    run.notify();
  }

  /**
   * A run that failed before its turn could say so: its Response, and its streams' last events, an
   * `error` and `response.failed`, as every stream a failure ends (ResponseStreamRenderer.error).
   * `event`: the `error` event's own code and param (the turn's refusal's), when not the Response's.
   */
  #fail(run: BackgroundRun, code: string, message: string, event?: { code: string; param: string | null }): void {
    if (TERMINAL.has(run.status)) return;
    // A turn cut off mid-answer: what it streamed is closed and kept, as a stream a failure ends closes it.
    const output = this.#closeStreamed(run);
    run.response = { ...run.response, status: "failed", error: { code, message }, output };
    const error = { type: "error", sequence_number: run.events.length, code, message, param: null, ...event };
    run.push("error", JSON.stringify(error));
    const data = JSON.stringify({ type: "response.failed", sequence_number: run.events.length, response: run.response });
    run.push("response.failed", data);
  }

  /** Closes the items the run's turn left open (StreamedOutput.close), in its streams: the run's output as it now stands. */
  #closeStreamed(run: BackgroundRun): StateItem[] {
    for (const { type, data } of run.streamed.close()) {
      run.push(type, JSON.stringify({ type, sequence_number: run.events.length, ...data }));
    }
    return run.streamed.output;
  }

  /** A cancelled run's last event: its Response as it is kept (CANCELLED_EVENT). */
  #endCancelled(run: BackgroundRun): void {
    const data = JSON.stringify({ type: CANCELLED_EVENT, sequence_number: run.events.length, response: run.response });
    run.push(CANCELLED_EVENT, data);
  }

  /** Saves how a run ended, over its queued Response (keeping any items its turn stored). */
  async #keep(run: BackgroundRun): Promise<void> {
    try {
      // What its turn saved as it began, unless the turn saved its end (a run cancelled as it finished).
      const kept = (!run.turnEnded && run.started) || (await this.#state.getResponse(run.id));
      const record = kept ?? { id: run.id, createdAt: run.createdAt, input: [], output: [] };
      // What its turn streamed before it was stopped, kept as its Response lists it, so that a follow-up
      // is sent it too; marked as its input is (the turn's own marks were never saved).
      const streamed = run.turnEnded ? [] : run.streamed.output;
      const output = record.output.length === 0 ? streamed.map(markedAs(record.input)) : record.output;
      await this.#state.saveResponse({ ...record, output, response: run.response });
    } catch {
      // The store could not take it: the run is read as interrupted from the store (failed), as after a stop.
    }
  }

  /**
   * Forgets the oldest finished runs past MAX_FINISHED, and past MAX_FINISHED_EVENT_BYTES of events
   * together (a run's events are counted as characters, at most 2 bytes each in memory): the newest
   * are kept, a running one always. A forgotten run is read from the store.
   */
  #prune(): void {
    const finished = [...this.#runs.values()].filter((run) => run.finished);
    let kept = 0;
    let bytes = 0;
    for (const run of finished.reverse()) {
      bytes += run.eventChars * 2;
      if (++kept > MAX_FINISHED || bytes > this.#maxFinishedEventBytes) this.#runs.delete(run.id);
    }
  }
}

/** How items are marked to be kept with `input`: as private as its most private item (StoredItem). */
function markedAs(input: readonly StoredItem[]): (item: StateItem) => StoredItem {
  let sensitivity: ItemSensitivity | undefined;
  for (const stored of input) sensitivity = higherSensitivity(sensitivity, stored.sensitivity);
  const declaredPrivate = input.some((stored) => stored.declaredPrivate === true);
  return (item) => ({
    item,
    ...(sensitivity !== undefined && sensitivity !== "public" && { sensitivity }),
    ...(declaredPrivate && { declaredPrivate: true as const }),
  });
}

/**
 * Streams a run's events to a client as POST /v1/responses streams them, from the one after
 * sequence number `startingAfter`, then each as it comes, until the run ends or the client leaves
 * (which does not stop the run).
 */
export async function sendRunEvents(reply: FastifyReply, run: BackgroundRun, startingAfter: number): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  let next = Math.max(0, startingAfter + 1);
  await new Promise<void>((resolve) => {
    let stop = () => undefined as unknown;
    const flush = () => {
      if (res.destroyed) return finish();
      let text = "";
      for (; next < run.events.length; next++) {
        const event = run.events[next] as { type: string; data: string };
        text += `event: ${event.type}\ndata: ${event.data}\n\n`;
      }
      if (text !== "") res.write(text);
      if (run.finished) {
        res.end();
        finish();
      }
    };
    const finish = () => {
      stop();
      res.off("close", finish);
      resolve();
    };
    res.once("close", finish);
    stop = run.listen(flush);
    flush();
  });
}

/** The wait a 503 or 529 with a Retry-After asks for (at least a second); undefined for any other refusal. */
function comeBackAfterMs(status: number, headers: Record<string, string> | undefined): number | undefined {
  const retryAfter = Number(headers?.["retry-after"]);
  if ((status !== 503 && status !== 529) || headers?.["retry-after"] === undefined || !Number.isFinite(retryAfter))
    return undefined;
  return Math.max(1000, retryAfter * 1000);
}

/** Waits `ms`; false when `signal` aborts first. */
function waitOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
