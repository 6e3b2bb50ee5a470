import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatewayError } from "../../core/index.js";

/** Answers one request; what it returns (when it has not sent a reply itself) is the JSON body. */
export type RouteHandler = (request: FastifyRequest, reply: FastifyReply) => unknown;

/** One route of a dialect, as the server mounts it. */
export interface DialectRoute {
  method: "GET" | "HEAD" | "POST" | "DELETE";
  /** Fastify's path syntax: `/api/blobs/:digest`, `/v1/models/*`. */
  url: string;
  handler: RouteHandler;
  /**
   * For a route whose body is not JSON (an upload): the body reaches the handler unparsed
   * (`request.raw`) when this returns undefined for its Content-Type, else the request is refused
   * with the error it returns. Default: the body must be JSON, as on every other route.
   */
  rawBody?: (contentType: string | undefined) => GatewayError | undefined;
}

/**
 * A dialect's routes, written as with Fastify (`table.post(url, handler)`) but only listed: the
 * server mounts them (server/mount-dialects.ts), so a dialect never holds the app.
 */
export class RouteTable {
  readonly routes: DialectRoute[] = [];

  get(url: string, handler: RouteHandler): void {
    this.routes.push({ method: "GET", url, handler });
  }

  head(url: string, handler: RouteHandler): void {
    this.routes.push({ method: "HEAD", url, handler });
  }

  post(url: string, handler: RouteHandler, options: Pick<DialectRoute, "rawBody"> = {}): void {
    this.routes.push({ method: "POST", url, handler, ...options });
  }

  delete(url: string, handler: RouteHandler): void {
    this.routes.push({ method: "DELETE", url, handler });
  }
}
