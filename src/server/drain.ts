import { setMaxListeners } from "node:events";
import type { Server, ServerResponse } from "node:http";
import { ShutdownAbort } from "../dialects/shared/index.js";

/**
 * How long the requests the shutdown ended (after the grace period) have to write their error and
 * end, before the server's close cuts whatever is still open: a handler that ignores its signal must
 * not hold the exit.
 */
const SETTLE_MS = 2000;

/**
 * The server's graceful stop: from `begin` on, no new connection is taken and new requests are
 * refused (the app answers them 503 in the client's dialect, see `draining`); the requests already
 * running get the grace period to finish, after which `signal` ends those still running (each
 * request's clientSignal follows it, with a ShutdownAbort as its reason). Requests no client waits
 * for (a background response's turn) follow `stopping` instead, and end as the stop begins. One
 * owner: the server's `shutdown`.
 */
export class Drain {
  readonly #controller = new AbortController();
  readonly #stopping = new AbortController();
  readonly #open = new Set<ServerResponse>();
  #server: Server | undefined;
  #whenIdle: (() => void) | undefined;

  constructor() {
    // Every running request listens to these signals (its clientSignal, until its response
    // closes, which removes the listener): one per request at once is expected, not a leak, and
    // Node's default limit of 10 would print "Possible EventTarget memory leak detected" on a server
    // that merely has 11 requests running.
    setMaxListeners(0, this.#controller.signal, this.#stopping.signal);
  }

  /** Whether the shutdown has begun: a new request is refused. */
  get draining(): boolean {
    return this.#server !== undefined;
  }

  /** Fires when the grace period has passed (or the stop is forced): the requests still running are ended. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Fires as the stop begins (or is forced), with a ShutdownAbort as its reason: for requests no
   * client waits for, which the grace period is not given to (a background response that ends with
   * tandem, as the Responses API section of the README says), so that they end, and are stored so,
   * at once rather than holding the stop for the whole grace period.
   */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Follows one request's response until it closes (whatever ends it). */
  track(res: ServerResponse): void {
    this.#open.add(res);
    res.once("close", () => {
      this.#open.delete(res);
      // A keep-alive connection is closed once its current request is answered, so its client
      // opens its next one elsewhere (or finds tandem gone) rather than having it refused.
      if (this.#server) setImmediate(() => this.#server?.closeIdleConnections());
      if (this.#open.size === 0) this.#whenIdle?.();
    });
  }

  /**
   * Stops taking connections and requests at once, gives the running requests `graceMs` to finish,
   * then ends those still running and gives them a moment to say so. Resolves when none is left
   * running, or that moment has passed (the caller's close then cuts what remains).
   */
  async drain(server: Server, graceMs: number): Promise<void> {
    this.#server = server;
    this.#stop(this.#stopping);
    // No new connection; idle keep-alive connections are closed at once (Node's close does both).
    server.close();
    for (const res of this.#open) {
      // An answer not started yet tells its client the connection ends with it.
      if (!res.headersSent) res.setHeader("connection", "close");
    }
    if (await this.#idleWithin(graceMs)) return;
    this.abort();
    await this.#idleWithin(SETTLE_MS);
  }

  /** Ends every request still running now (the grace period passed, or a second signal forced the stop). */
  abort(): void {
    this.#stop(this.#stopping);
    this.#stop(this.#controller);
  }

  #stop(controller: AbortController): void {
    if (!controller.signal.aborted) controller.abort(new ShutdownAbort());
  }

  /** Whether no request is left running within `ms`. */
  #idleWithin(ms: number): Promise<boolean> {
    if (this.#open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#whenIdle = undefined;
        resolve(false);
      }, ms);
      this.#whenIdle = () => {
        clearTimeout(timer);
        this.#whenIdle = undefined;
        resolve(true);
      };
    });
  }
}
