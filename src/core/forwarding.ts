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
