import type { FastifyInstance } from "fastify";
import type { Loopback } from "../dialects/shared/index.js";

/**
 * Requests injected into this Fastify app (no socket), their answers streamed as they are written:
 * the server's Loopback. Cancelling destroys the injected response, which fires the route's client
 * signal as a client closing its connection does; when the server closes, every answer still
 * running is cancelled, so that no background work holds the close.
 */
export class ServerLoopback {
  readonly #app: FastifyInstance;
  readonly #running = new Set<() => void>();

  constructor(app: FastifyInstance) {
    this.#app = app;
    app.addHook("preClose", (done) => {
      for (const cancel of [...this.#running]) cancel();
      done();
    });
  }

  /** A Loopback whose requests come, as far as the routes can tell, from `remoteAddress`. */
  from(remoteAddress = "127.0.0.1"): Loopback {
    return async (request) => {
      const response = await this.#app.inject({
        method: request.method,
        url: request.url,
        headers: request.headers,
        payload: JSON.stringify(request.body),
        payloadAsStream: true,
        remoteAddress,
      });
      const cancel = () => response.raw.res.destroy();
      this.#running.add(cancel);
      response.raw.res.once("close", () => this.#running.delete(cancel));
      return { status: response.statusCode, headers: response.headers, body: response.stream(), cancel };
    };
  }
}
