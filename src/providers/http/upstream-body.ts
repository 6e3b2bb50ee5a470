import { DONE, GatewayError, type ReadyStream, takeReady } from "../../core/index.js";
import { destroyBody, drainUpTo } from "./answer-limits.js";
import type { UpstreamResponse } from "./decoded-answer.js";

/** How long to wait for the rest of a finished answer (normally just the chunked terminator). */
const DRAIN_MS = 1000;
const DRAIN_LIMIT = 64 * 1024;

/**
 * What a failure while reading an upstream's streamed answer means: our own abort is `canceled`;
 * a GatewayError (an error event the parser found) stands; a malformed line or a body that broke off
 * (socket reset, truncated chunked encoding) is the upstream's `upstream_error`, not an unreachable host;
 * tandem's own failure (a TypeError in a parser) stays `internal`.
 */
export function streamFailure(err: unknown, signal: AbortSignal, target: string): GatewayError {
  if (signal.aborted) return new GatewayError("canceled", "The request was canceled", { target, cause: err });
  if (err instanceof GatewayError) return err;
  if (err instanceof SyntaxError) {
    return new GatewayError("upstream_error", `${target}: the upstream sent a malformed stream (${err.message})`, {
      target,
      cause: err,
    });
  }
  const error = GatewayError.from(err);
  // A bug of ours while parsing is not the upstream's fault, and must not be held against it.
  if (error.code === "timeout" || error.code === "internal") return error;
  return new GatewayError("upstream_error", `${target}: the stream broke off before it finished (${error.message})`, {
    target,
    cause: err,
  });
}

/**
 * After a streamed answer: when it finished, read what follows (normally nothing) so the keep-alive
 * socket goes back to the pool; when the reader left early (client gone, error), drop the connection
 * so the upstream stops generating at once.
 */
export async function releaseBody(res: UpstreamResponse, signal: AbortSignal, finished: boolean): Promise<void> {
  if (res.body.readableEnded) return;
  if (finished && !signal.aborted) {
    // A plain timer, not AbortSignal.timeout/any: this runs once per answer, on the hot path.
    const timer = setTimeout(() => destroyBody(res.body), DRAIN_MS);
    try {
      if (await drainUpTo(res.body, DRAIN_LIMIT)) return;
    } catch {
      // Fall through: drop it.
    } finally {
      clearTimeout(timer);
    }
  }
  destroyBody(res.body);
}

/**
 * Runs a provider's stream parser over an upstream answer: normalises failures with `streamFailure`
 * and releases the body as `releaseBody` says. Every remote provider reads its answers through this.
 * It forwards each `next()` to the parser rather than re-yielding from a generator of its own: an
 * answer is hundreds of events, and every generator layer costs each of them a few microtasks.
 */
export function relayUpstreamStream<T extends { type: string }>(
  res: UpstreamResponse,
  signal: AbortSignal,
  target: string,
  parse: (body: AsyncIterable<Buffer>) => AsyncIterable<T>,
): ReadyStream<T> {
  // Left open when the parser stops, so releaseBody decides whether the socket can be reused.
  const inner = parse(res.body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let finished = false;
  let released = false;
  // Not awaited: the answer is complete (or abandoned) now, and the client should not wait for
  // the upstream's closing bytes; the socket returns to the pool whenever they arrive.
  const release = () => {
    if (released) return;
    released = true;
    void releaseBody(res, signal, finished);
  };
  const onResult = (result: IteratorResult<T>): IteratorResult<T> => {
    if (result.done) release();
    else if (result.value.type === "finish") finished = true;
    return result;
  };
  const onError = (err: unknown): never => {
    release();
    throw streamFailure(err, signal, target);
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => (released ? Promise.resolve(DONE) : inner.next().then(onResult, onError)),
    takeReady(): T[] | undefined {
      if (released) return undefined;
      const ready = takeReady(inner);
      if (ready?.some((event) => event.type === "finish")) finished = true;
      return ready;
    },
    async return(): Promise<IteratorResult<T>> {
      try {
        if (!released) await inner.return?.();
      } catch {
        // The reader is leaving; a parser that fails while closing changes nothing.
      } finally {
        release();
      }
      return DONE;
    },
  };
}
