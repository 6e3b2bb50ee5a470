import type { FastifyInstance } from "fastify";
import type { GatewayError } from "../core/index.js";
import type { StateStore } from "../core/state.js";
import type { Gateway } from "../router/gateway.js";

export type DialectName = "openai" | "anthropic" | "ollama";

/** An error as one dialect puts it on the wire. */
export interface ErrorRendering {
  status: number;
  body: unknown;
  /** Extra response headers, e.g. `retry-after` on a 429, so clients back off as the real API tells them to. */
  headers?: Record<string, string>;
}

/** What the server gives a dialect besides the gateway: the state it keeps for the user. */
export interface DialectServices {
  /** Stored responses and conversations (the encrypted store's, or in memory when the store is off). */
  state: StateStore;
}

/** One wire API a client can speak. The server mounts each and asks it to render errors on its paths. */
export interface Dialect {
  readonly name: DialectName;
  /** Registers this dialect's routes (under /v1 or /api, as the real service serves them). */
  register(app: FastifyInstance, gateway: Gateway, services: DialectServices): void;
  /** Renders any GatewayError in this API's own error shape and status. */
  renderError(error: GatewayError): ErrorRendering;
}
