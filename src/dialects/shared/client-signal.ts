import type { FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "../../core/index.js";
import { requestRecord } from "./request-record.js";

const signals = new WeakMap<FastifyRequest, AbortSignal>();

/**
 * The reason a request's signal carries when tandem's shutdown ends it (its grace period passed).
 * Named AbortError, so everything on the way (the router, a provider, GatewayError.from) takes it for
 * a cancel, exactly as a client's disconnect: nothing is retried and no target's breaker, stats or
 * health hear of it. Only the response writers tell the two apart (endedByShutdown), since a client
 * that left reads nothing while one that is still there is owed an answer.
 */
export class ShutdownAbort extends Error {
  override readonly name = "AbortError";

  constructor() {
    super("tandem is shutting down");
  }
}

/**
 * The reason a request's signal carries when its client goes away. Named AbortError, as
 * ShutdownAbort is, because whatever is cut short by the signal may throw its reason as it is (the
 * MCP SDK's call does, and so does anything that rethrows `signal.reason`): GatewayError.from then
 * reads it as the cancel it is, never as an internal error of tandem's to log.
 */
export class ClientDisconnect extends Error {
  override readonly name = "AbortError";

  constructor() {
    super("client disconnected");
  }
}

/** What a client still waiting is told when the shutdown ends its request: 503 in its dialect, in-band in a stream. */
export function shuttingDownError(): GatewayError {
  return new GatewayError(
    "unavailable",
    "tandem is shutting down; the request was not completed, send it again once tandem is back",
    { reason: "shutting_down" },
  );
}

/**
 * An AbortSignal that fires when the client goes away before the answer is complete, so upstream
 * work (a cloud stream, a local generation) stops at once; and when tandem's shutdown ends the
 * request (the server's shutdown signal in its record), with a ShutdownAbort as the reason.
 */
export function clientSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const existing = signals.get(request);
  if (existing) return existing;
  const controller = new AbortController();
  const res = reply.raw;
  // A response destroyed before its route asked (a loopback request cancelled early) has closed already.
  if (res.destroyed && !res.writableFinished) controller.abort(new ClientDisconnect());
  else {
    const shutdown = requestRecord(request).shutdown;
    const onShutdown = () => controller.abort(shutdown?.reason);
    if (shutdown?.aborted) onShutdown();
    else shutdown?.addEventListener("abort", onShutdown, { once: true });
    res.once("close", () => {
      shutdown?.removeEventListener("abort", onShutdown);
      if (!res.writableFinished) controller.abort(new ClientDisconnect());
    });
  }
  signals.set(request, controller.signal);
  return controller.signal;
}

/**
 * Whether tandem's shutdown (not the client) ended this request: its client is still there and gets
 * shuttingDownError in its dialect, where a client that left gets nothing written.
 */
export function endedByShutdown(request: FastifyRequest): boolean {
  const signal = signals.get(request) ?? requestRecord(request).shutdown;
  return signal?.aborted === true && signal.reason instanceof ShutdownAbort;
}
