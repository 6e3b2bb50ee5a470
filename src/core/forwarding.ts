/**
 * Stream plumbing without a generator per layer. An answer is hundreds of events, and each async
 * generator it passes through costs every event a few microtasks; these forward `next()` to the
 * stream underneath instead, so a layer that only starts or prefixes a stream costs nothing per event.
 */

/** The result of a stream that has ended. */
export const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A stream that can hand over at once the items it already holds. An upstream's network read often
 * carries many events (a whole answer, when it came in one packet): after `next()` resolves,
 * `takeReady()` gives every item that follows it without waiting, in order, as consecutive `next()`
 * calls would have (undefined when there is none), and `next()` goes on after them. It never waits and
 * never throws: a failure that follows the items comes from the next `next()`. Each layer passes it on
 * from the stream beneath, so a reader takes an upstream read's events through every layer in one go,
 * not one promise per event per layer. A stream without it is read one item at a time, as before.
 */
export interface ReadyStream<T> extends AsyncIterableIterator<T> {
  takeReady?(): T[] | undefined;
}

/** The items `stream` already holds after its last `next()` (see ReadyStream); undefined when none, or when it cannot tell. */
export function takeReady<T>(stream: AsyncIterator<T> | Iterator<T>): T[] | undefined {
  return (stream as ReadyStream<T>).takeReady?.();
}

/**
 * A stream's items as the batches they arrive in: each `next()` with what takeReady gives after it
 * (one item at a time from a stream without it). Leaving early closes the stream, as for-await would;
 * a stream that fails is not closed again.
 */
export async function* readsOf<T>(stream: AsyncIterable<T>): AsyncGenerator<T[]> {
  const iterator = stream[Symbol.asyncIterator]();
  let open = true;
  try {
    for (;;) {
      let step: IteratorResult<T>;
      try {
        step = await iterator.next();
      } catch (err) {
        open = false;
        throw err;
      }
      if (step.done) {
        open = false;
        return;
      }
      const ready = takeReady(iterator);
      yield ready === undefined ? [step.value] : [step.value, ...ready];
    }
  } finally {
    if (open) await iterator.return?.();
  }
}

/**
 * Reads a stream to its end: `each` for every item, an upstream read's items (takeReady) one after
 * the other without a promise between them, then `settled` once for them (e.g. to write what they
 * made in one go). As for-await: leaving early (`each` or `settled` throws, or its promise rejects)
 * closes the stream; a stream that fails is not closed again.
 */
export async function forEachItem<T>(
  stream: AsyncIterable<T>,
  each: (item: T) => void | Promise<void>,
  settled?: () => void | Promise<void>,
): Promise<void> {
  for await (const read of readsOf(stream)) {
    for (const item of read) {
      const waiting = each(item);
      if (waiting !== undefined) await waiting;
    }
    const done = settled?.();
    if (done !== undefined) await done;
  }
}

/** The items of a stream of batches, one by one, and a batch's rest at once by takeReady (see expandBatches). */
export function fromBatches<T>(batches: AsyncIterable<readonly T[]>): ReadyStream<T> {
  return expandBatches<readonly T[], T>(
    batches,
    (batch, out) => {
      for (const item of batch) out.push(item);
      return undefined;
    },
    () => {},
  );
}

/**
 * A stream whose work begins on the first `next()`, as a generator's would: `start` runs then, and
 * every later call goes straight to the stream it resolved to. A stream left before it began never
 * starts. `start` failing fails that first `next()`.
 */
export function lazyStream<T>(start: () => Promise<AsyncIterable<T> | Iterable<T>>): ReadyStream<T> {
  let inner: AsyncIterator<T> | Iterator<T> | undefined;
  /** A source that is a list (a whole answer's events): served from here, and all at once by takeReady. */
  let list: readonly T[] | undefined;
  let at = 0;
  let started = false;
  let left = false;
  const fromList = (items: readonly T[]): IteratorResult<T> =>
    at < items.length ? { done: false, value: items[at++] as T } : DONE;
  const stream: ReadyStream<T> = {
    [Symbol.asyncIterator]: () => stream,
    next(): Promise<IteratorResult<T>> {
      if (list) return Promise.resolve(fromList(list));
      if (inner) return Promise.resolve(inner.next());
      if (started || left) return Promise.resolve(DONE);
      started = true;
      return start().then(async (source) => {
        if (Array.isArray(source)) {
          if (left) return DONE;
          list = source as readonly T[];
          return fromList(list);
        }
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
    takeReady(): T[] | undefined {
      if (list) {
        if (at >= list.length) return undefined;
        const ready = list.slice(at);
        at = list.length;
        return ready;
      }
      return inner === undefined ? undefined : takeReady(inner);
    },
    async return(): Promise<IteratorResult<T>> {
      left = true;
      list = undefined;
      const current = inner;
      inner = undefined;
      await current?.return?.();
      return DONE;
    },
  };
  return stream;
}

/** `first` (a result already read from `rest`), then the rest of `rest`, forwarded. */
export function prepended<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): ReadyStream<T> {
  let pending: IteratorResult<T> | undefined = first;
  const stream: ReadyStream<T> = {
    [Symbol.asyncIterator]: () => stream,
    next(): Promise<IteratorResult<T>> {
      if (pending === undefined) return rest.next();
      const result = pending;
      pending = undefined;
      return Promise.resolve(result);
    },
    takeReady(): T[] | undefined {
      return pending === undefined ? takeReady(rest) : undefined;
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
 * batches. `next()` is called one at a time (as for-await does). `takeReady()` gives what is left of
 * the current batch's items at once (see ReadyStream). `complete`, when given, says whether the
 * items so far already make a whole answer (its finish came): batches that then fail to read (the
 * connection reset before the trailing usage or end marker) end as if they had ended cleanly, with
 * `end`, rather than failing an answer that is complete.
 */
export function expandBatches<B, T>(
  batches: AsyncIterable<B>,
  step: (batch: B, out: T[]) => boolean | undefined,
  end: (out: T[]) => void,
  complete?: () => boolean,
): ReadyStream<T> {
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
        if (complete?.() !== true) throw error;
        batch = DONE;
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
  const stream: ReadyStream<T> = {
    [Symbol.asyncIterator]: () => stream,
    next(): Promise<IteratorResult<T>> {
      if (at < queue.length) return Promise.resolve({ done: false, value: queue[at++] as T });
      return refill();
    },
    takeReady(): T[] | undefined {
      if (at >= queue.length) return undefined;
      const ready = at === 0 ? queue : queue.slice(at);
      queue = [];
      at = 0;
      return ready;
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
