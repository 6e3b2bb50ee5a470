import type { FastifyReply, FastifyRequest } from "fastify";

const signals = new WeakMap<FastifyRequest, AbortSignal>();

/**
 * An AbortSignal that fires when the client goes away before the answer is complete, so upstream
 * work (a cloud stream, a local generation) stops at once.
 */
export function clientSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const existing = signals.get(request);
  if (existing) return existing;
  const controller = new AbortController();
  const res = reply.raw;
  // A response destroyed before its route asked (a loopback request cancelled early) has closed already.
  if (res.destroyed && !res.writableFinished) controller.abort(new Error("client disconnected"));
  else {
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new Error("client disconnected"));
    });
  }
  signals.set(request, controller.signal);
  return controller.signal;
}
