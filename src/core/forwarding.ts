/**
 * Stream plumbing without a generator per layer. An answer is hundreds of events, and each async
 * generator it passes through costs every event a few microtasks; these forward `next()` to the
 * stream underneath instead, so a layer that only starts or prefixes a stream costs nothing per event.
 */

/** The result of a stream that has ended. */
export const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A stream whose work begins on the first `next()`, as a generator's would: `start` runs then, and
 * every later call goes straight to the stream it resolved to. A stream left before it began never
 * starts. `start` failing fails that first `next()`.
 */
export function lazyStream<T>(start: () => Promise<AsyncIterable<T> | Iterable<T>>): AsyncIterableIterator<T> {
  let inner: AsyncIterator<T> | Iterator<T> | undefined;
  let started = false;
  let left = false;
  const stream: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => stream,
    next(): Promise<IteratorResult<T>> {
      if (inner) return Promise.resolve(inner.next());
      if (started || left) return Promise.resolve(DONE);
      started = true;
      return start().then(async (source) => {
        const opened = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
        if (left) {
          // Left while it was starting: close what started.
          await opened.return?.();
          return DONE;
        }
        inner = opened;
        return opened.next();
      });
    },
    async return(): Promise<IteratorResult<T>> {
      left = true;
      const current = inner;
      inner = undefined;
      await current?.return?.();
      return DONE;
    },
  };
  return stream;
}

/** `first` (a result already read from `rest`), then the rest of `rest`, forwarded. */
export function prepended<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterableIterator<T> {
  let pending: IteratorResult<T> | undefined = first;
  const stream: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => stream,
    next(): Promise<IteratorResult<T>> {
      if (pending === undefined) return rest.next();
      const result = pending;
      pending = undefined;
      return Promise.resolve(result);
    },
    async return(): Promise<IteratorResult<T>> {
      pending = undefined;
      await rest.return?.();
      return DONE;
    },
  };
  return stream;
}

/**
 * Items made from a stream of batches (an upstream's SSE messages, one batch per network read):
 * `step` turns one batch into its items at once, and they are served one by one from there, so an
 * item costs one resolved promise rather than the several microtasks an async generator's `yield`
 * costs it. `step` returns true when the items are complete (an end marker came): the batches are
 * closed, unread. `end` adds the closing items once the batches are done. When `step` or `end`
 * throws, the items it gave first are served, then the error. Leaving early (`return()`) closes the
 * batches. `next()` is called one at a time (as for-await does).
 */
export function expandBatches<B, T>(
  batches: AsyncIterable<B>,
  step: (batch: B, out: T[]) => boolean | undefined,
  end: (out: T[]) => void,
): AsyncIterableIterator<T> {
  const source = batches[Symbol.asyncIterator]();
  let queue: T[] = [];
  let at = 0;
  let failure: { error: unknown } | undefined;
  /** No more batches are read: they ended, failed, or the items failed. */
  let over = false;
  /** The batches ended or failed by themselves: there is nothing to close. */
  let sourceEnded = false;
  const close = async () => {
    if (sourceEnded) return;
    sourceEnded = true;
    await source.return?.();
  };
  const refill = async (): Promise<IteratorResult<T>> => {
    for (;;) {
      if (at < queue.length) return { done: false, value: queue[at++] as T };
      if (failure !== undefined) {
        const { error } = failure;
        failure = undefined;
        throw error;
      }
      if (over) return DONE;
      queue = [];
      at = 0;
      let batch: IteratorResult<B>;
      try {
        batch = await source.next();
      } catch (error) {
        over = sourceEnded = true;
        throw error;
      }
      try {
        if (batch.done) {
          over = sourceEnded = true;
          end(queue);
        } else if (step(batch.value, queue) === true) {
          over = true;
          await close();
          end(queue);
        }
      } catch (error) {
        // As a generator's for-await would: the batches are closed when their reader fails.
        over = true;
        failure = { error };
        await close().catch(() => {});
      }
    }
  };
  const stream: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => stream,
    next(): Promise<IteratorResult<T>> {
      if (at < queue.length) return Promise.resolve({ done: false, value: queue[at++] as T });
      return refill();
    },
    async return(): Promise<IteratorResult<T>> {
      over = true;
      queue = [];
      at = 0;
      failure = undefined;
      await close();
      return DONE;
    },
  };
  return stream;
}
