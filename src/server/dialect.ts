import type { FastifyInstance } from "fastify";
import type { GatewayError } from "../core/index.js";
import type { Gateway } from "../router/gateway.js";

export type DialectName = "openai" | "anthropic" | "ollama";

/** An error as one dialect puts it on the wire. */
export interface ErrorRendering {
  status: number;
  body: unknown;
  /** Extra response headers, e.g. `retry-after` on a 429, so clients back off as the real API tells them to. */
  headers?: Record<string, string>;
}

/** One wire API a client can speak. The server mounts each and asks it to render errors on its paths. */
export interface Dialect {
  readonly name: DialectName;
  /** Registers this dialect's routes (under /v1 or /api, as the real service serves them). */
  register(app: FastifyInstance, gateway: Gateway): void;
  /** Renders any GatewayError in this API's own error shape and status. */
  renderError(error: GatewayError): ErrorRendering;
}
