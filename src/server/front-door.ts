import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "../core/index.js";
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

/** An absolute-form request target's authority: what comes between `scheme://` and the path (user info in it is no name the check allows). */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

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
    const refusal = this.refusal(headers) ?? this.#targetRefusal(request.raw.url);
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
   * An absolute-form request target (`GET http://other.example/v1/models`) names the host it is for
   * itself, and HTTP says a server must go by it rather than by Host (RFC 9112, 3.2.2): its authority
   * passes the same check as a Host header, or the request is refused as one naming another host.
   */
  #targetRefusal(url: string | undefined): GatewayError | undefined {
    const authority = url === undefined ? undefined : ABSOLUTE_FORM.exec(url)?.[1];
    if (authority === undefined || this.#hosts.allows(authority)) return undefined;
    return hostRefusal(authority);
  }

  /**
   * Why a request with these headers may not come in (its Host, or a web page's Origin), or undefined.
   * Also asked of a WebSocket upgrade, which no browser preflights: a page's Origin is all there is to refuse.
   */
  refusal(headers: IncomingHttpHeaders): GatewayError | undefined {
    const host = headers.host;
    if (!this.#hosts.allows(host)) return hostRefusal(host ?? "");
    const origin = headers.origin;
    if (origin !== undefined) return this.#origins.allows(origin, host) ? undefined : originRefusal(origin);
    if (isCrossSiteSubresource(headers)) return crossSiteRefusal();
    return undefined;
  }
}

/**
 * A request another site's page made without an Origin: an <img>, <script> or <link> pointed at
 * tandem, or a no-cors fetch() GET (browsers send Origin with CORS requests and every POST, but not
 * with these). Its answer is opaque to the page, but not its status: a <script> fires `load` on a 2xx
 * and `error` otherwise (so a 200 against a 401 says whether a key is needed), and a text answer runs
 * as a script. Browsers mark them with Fetch Metadata; a navigation of a page or a frame (a link
 * followed to tandem, the console) is still answered, and so is every request without the header
 * (clients that are not browsers, and browsers sending the user's own typed URL as `none`). An
 * <object> or <embed> is a navigation too (`Sec-Fetch-Mode: navigate`), but fires `error` on a
 * failed status where a frame fires `load` whatever it was: it is refused as a subresource.
 */
function isCrossSiteSubresource(headers: IncomingHttpHeaders): boolean {
  if (headers["sec-fetch-site"] !== "cross-site") return false;
  const dest = headers["sec-fetch-dest"];
  return headers["sec-fetch-mode"] !== "navigate" || (dest !== undefined && !FRAME_DESTINATIONS.has(dest));
}

/** Where a navigation's answer is shown without telling the page that started it how it went. */
const FRAME_DESTINATIONS = new Set(["document", "iframe", "frame"]);

/** The 403 for another site's request that came without an Origin. */
function crossSiteRefusal(): GatewayError {
  return new GatewayError(
    "permission_denied",
    "A cross-site request without an Origin (another site's <img>, <script>, <link> or no-cors fetch, marked " +
      "Sec-Fetch-Site: cross-site) is not answered: a page calls tandem with fetch() in CORS mode, from an origin " +
      "listed in server.cors.origins (TANDEM_ORIGINS)",
  );
}

/** A refused request's body is not read, so its connection is not kept for another request. */
function refuse(reply: FastifyReply, error: GatewayError): GatewayError {
  reply.header("connection", "close");
  return error;
}
