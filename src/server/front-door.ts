import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatewayError } from "../core/index.js";
import { isPreflight, preflightHeaders, writeCorsHeaders } from "./cors.js";
import { HostPolicy, hostRefusal } from "./host-check.js";
import { OriginPolicy, originRefusal } from "./origin-policy.js";

export interface FrontDoorOptions {
  /** `server.host`: the bound address. */
  host: string;
  /** `server.allowedHosts`. */
  allowedHosts: readonly string[];
  /** `server.cors.origins`. */
  origins: readonly string[];
}

/** What the front door made of a request: let it in, refuse it, or it already answered (a preflight). */
export type Admission = undefined | GatewayError | typeof ANSWERED;
export const ANSWERED = "answered";

/**
 * The checks every request passes before auth, body parsing and routing: its Host (DNS rebinding)
 * and its Origin (other web pages). Allowed origins get CORS headers, and their preflights are
 * answered here, without a key (browsers never send credentials on a preflight).
 */
export class FrontDoor {
  readonly #hosts: HostPolicy;
  readonly #origins: OriginPolicy;

  constructor(options: FrontDoorOptions) {
    this.#hosts = new HostPolicy({ bindHost: options.host, allowedHosts: options.allowedHosts });
    this.#origins = new OriginPolicy(options.origins);
  }

  admit(request: FastifyRequest, reply: FastifyReply): Admission {
    const headers = request.headers;
    const refusal = this.refusal(headers);
    if (refusal !== undefined) return refuse(reply, refusal);
    const origin = headers.origin;
    if (origin === undefined) return undefined;
    if (isPreflight(request.method, headers)) {
      reply.code(204).headers(preflightHeaders(origin, headers)).send();
      return ANSWERED;
    }
    writeCorsHeaders(reply.raw, origin);
    return undefined;
  }

  /**
   * Why a request with these headers may not come in (its Host, or a web page's Origin), or undefined.
   * Also asked of a WebSocket upgrade, which no browser preflights: a page's Origin is all there is to refuse.
   */
  refusal(headers: IncomingHttpHeaders): GatewayError | undefined {
    const host = headers.host;
    if (!this.#hosts.allows(host)) return hostRefusal(host ?? "");
    const origin = headers.origin;
    if (origin !== undefined && !this.#origins.allows(origin, host)) return originRefusal(origin);
    return undefined;
  }
}

/** A refused request's body is not read, so its connection is not kept for another request. */
function refuse(reply: FastifyReply, error: GatewayError): GatewayError {
  reply.header("connection", "close");
  return error;
}
