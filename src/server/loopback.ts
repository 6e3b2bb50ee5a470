import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import { GatewayError } from "../core/index.js";
import { type Loopback, requestRecord } from "../dialects/shared/index.js";
import { DECLARED_PRIVATE_HEADER } from "../privacy/index.js";

/** The header that tells this server which loopback request a request is (its value holds a secret of this process). */
const LOOPBACK_HEADER = "x-tandem-loopback";

/** One loopback request while it runs: its response once the route has one, whether it was cancelled, and whether a client waits for it. */
interface Running {
  res: ServerResponse | undefined;
  cancelled: boolean;
  detached: boolean;
  /** LoopbackRequest.declaredPrivate, written as DECLARED_PRIVATE_HEADER once the request is known to be this one. */
  declaredPrivate: string | undefined;
}

/**
 * Requests injected into this Fastify app (no socket), their answers streamed as they are written:
 * the server's Loopback. Cancelling (the request's signal, or the answer's cancel) destroys the
 * injected response, which fires the route's client signal as a client closing its connection does,
 * also while the route still waits on its upstream for the answer's head (the response is known from
 * the request's first hook on, by a header only this process can write); when the server closes,
 * every request still running is cancelled, so that no background work holds the close. A detached
 * request (LoopbackRequest.detached) is ended by the shutdown as it begins (`stopping`, Drain.stopping),
 * not after the grace period the requests clients wait for are given.
 */
export class ServerLoopback {
  readonly #app: FastifyInstance;
  readonly #stopping: AbortSignal | undefined;
  readonly #secret = randomBytes(16).toString("hex");
  readonly #running = new Map<string, Running>();
  #next = 0;

  constructor(app: FastifyInstance, options: { stopping?: AbortSignal } = {}) {
    this.#app = app;
    this.#stopping = options.stopping;
    app.addHook("onRequest", (request, reply, done) => {
      // Only this server declares content private from outside a body: a client's own header is dropped.
      delete request.headers[DECLARED_PRIVATE_HEADER];
      const value = request.headers[LOOPBACK_HEADER];
      if (value === undefined) return done();
      // Nothing after this hook sees it; a client's own (without the secret) is dropped as well.
      delete request.headers[LOOPBACK_HEADER];
      const [secret, id] = typeof value === "string" ? value.split(" ") : [];
      const running = secret === this.#secret && id !== undefined ? this.#running.get(id) : undefined;
      if (running === undefined) return done();
      if (running.cancelled) return done(new GatewayError("canceled", "The request was cancelled before it started"));
      running.res = reply.raw;
      if (running.declaredPrivate !== undefined) request.headers[DECLARED_PRIVATE_HEADER] = running.declaredPrivate;
      // The route's clientSignal follows the request's shutdown signal (the server's hook set the grace period's).
      if (running.detached && this.#stopping !== undefined) requestRecord(request).shutdown = this.#stopping;
      done();
    });
    app.addHook("preClose", (done) => {
      for (const running of [...this.#running.values()]) cancel(running);
      done();
    });
  }

  /** A Loopback whose requests come, as far as the routes can tell, from `remoteAddress`. */
  from(remoteAddress = "127.0.0.1"): Loopback {
    return async (request) => {
      const id = String(this.#next++);
      const running: Running = {
        res: undefined,
        cancelled: false,
        detached: request.detached === true,
        declaredPrivate: request.declaredPrivate,
      };
      const cancelThis = () => cancel(running);
      const done = () => {
        this.#running.delete(id);
        request.signal?.removeEventListener("abort", cancelThis);
      };
      this.#running.set(id, running);
      if (request.signal?.aborted) running.cancelled = true;
      request.signal?.addEventListener("abort", cancelThis, { once: true });
      let response: Awaited<ReturnType<FastifyInstance["inject"]>>;
      try {
        response = await this.#app.inject({
          method: request.method,
          url: request.url,
          headers: { ...request.headers, [LOOPBACK_HEADER]: `${this.#secret} ${id}` },
          payload: JSON.stringify(request.body),
          payloadAsStream: true,
          remoteAddress,
        });
      } catch (err) {
        done();
        throw err;
      }
      const res = response.raw.res;
      running.res = res;
      if (running.cancelled) res.destroy();
      if (res.destroyed) done();
      else res.once("close", done);
      return { status: response.statusCode, headers: response.headers, body: response.stream(), cancel: cancelThis };
    };
  }
}

function cancel(running: Running): void {
  running.cancelled = true;
  running.res?.destroy();
}
