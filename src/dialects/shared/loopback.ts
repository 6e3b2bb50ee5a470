import type { IncomingHttpHeaders } from "node:http";

/** A request answered by this server, as it answers a client: every check, route and record applies. */
export interface LoopbackRequest {
  method: "POST";
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Cancels the request, also before its answer's head is out (the route's client signal fires). */
  signal?: AbortSignal;
  /**
   * No client waits for its answer (a background response's turn): tandem's shutdown ends it as the
   * shutdown begins, as it ends other requests once their grace period has passed (the route is told
   * it was the shutdown, and says so in its answer), instead of waiting for it.
   */
  detached?: boolean;
  /**
   * What the request holds that was declared private where tandem keeps it, known from outside its
   * body (a line of a batch input file uploaded as private): the router holds the request to it as
   * to a private file it names (ChatRequest.declaredPrivate). Only a loopback request can carry it.
   */
  declaredPrivate?: string;
}

/** Its answer as it is written: the status and headers once the head is out, then the body as it comes. */
export interface LoopbackAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: AsyncIterable<Buffer>;
  /** Leaves the answer as a client closing its connection does (the route's client signal fires). */
  cancel(): void;
}

/**
 * Runs a request through this server from inside it (Fastify's inject: no socket), for work whose
 * client is not an HTTP request of its own: a turn of the Responses WebSocket mode, a background
 * response that outlives the request that started it.
 */
export type Loopback = (request: LoopbackRequest) => Promise<LoopbackAnswer>;
