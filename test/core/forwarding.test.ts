/**
 * The forwarding stream helpers: a lazy stream starts on its first next() and not before, a stream
 * left before it began never starts, one left while starting closes what started; a prepended
 * result comes first, and leaving closes the rest. Batches expanded into items keep their order, end
 * with the closing items, and fail or stop as a generator over them would. takeReady hands over a
 * read's remaining items at once through every helper, never a failure; forEachItem reads with it and
 * closes the stream as for-await would.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandBatches, forEachItem, lazyStream, prepended, readsOf, takeReady } from "../../src/core/index.js";

function source(values: number[]) {
  const log: string[] = [];
  let i = 0;
  const iterator: AsyncIterableIterator<number> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      log.push("next");
      return i < values.length ? { done: false, value: values[i++] as number } : { done: true, value: undefined };
    },
    async return() {
      log.push("return");
      return { done: true, value: undefined };
    },
  };
  return { iterator, log };
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("forwarding streams", () => {
  it("starts a lazy stream on its first next(), then forwards; arrays work as sources", async () => {
    let starts = 0;
    const stream = lazyStream(async () => {
      starts++;
      return source([1, 2, 3]).iterator;
    });
    assert.equal(starts, 0, "nothing starts before iteration");
    assert.deepEqual(await all(stream), [1, 2, 3]);
    assert.equal(starts, 1);
    assert.deepEqual(await all(lazyStream(async () => [4, 5])), [4, 5]);
  });

  it("never starts a stream left before it began, and fails the first next() when starting fails", async () => {
    let starts = 0;
    const stream = lazyStream(async () => {
      starts++;
      return [1];
    });
    await stream.return?.();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
    assert.equal(starts, 0);
    const failing = lazyStream<number>(async () => {
      throw new Error("refused");
    });
    await assert.rejects(failing.next(), /refused/);
    assert.deepEqual(await failing.next(), { done: true, value: undefined });
  });

  it("closes what started when left while starting", async () => {
    const { iterator, log } = source([1, 2]);
    let release: () => void = () => {};
    const stream = lazyStream(() => new Promise<AsyncIterable<number>>((resolve) => (release = () => resolve(iterator))));
    const first = stream.next();
    await stream.return?.();
    release();
    assert.deepEqual(await first, { done: true, value: undefined });
    assert.deepEqual(log, ["return"]);
  });

  it("gives a prepended result first, then the rest; leaving early closes the rest", async () => {
    const rest = source([2, 3]);
    assert.deepEqual(await all(prepended({ done: false, value: 1 }, rest.iterator)), [1, 2, 3]);
    const left = source([2, 3]);
    const stream = prepended({ done: false, value: 1 }, left.iterator);
    for await (const x of stream) {
      assert.equal(x, 1);
      break;
    }
    assert.deepEqual(left.log, ["return"]);
  });
});

describe("expandBatches", () => {
  const twice = (batch: number, out: number[]) => {
    out.push(batch, batch * 10);
    return undefined;
  };

  it("serves each batch's items in order, then the closing items", async () => {
    const { iterator, log } = source([1, 2, 3]);
    const items = await all(expandBatches(iterator, twice, (out) => out.push(-1)));
    assert.deepEqual(items, [1, 10, 2, 20, 3, 30, -1]);
    assert.deepEqual(log, ["next", "next", "next", "next"]);
  });

  it("an empty batch gives nothing and the reading goes on", async () => {
    const { iterator } = source([1, 0, 2]);
    const items = await all(
      expandBatches(
        iterator,
        (b: number, out: number[]) => (b === 0 ? undefined : twice(b, out)),
        () => {},
      ),
    );
    assert.deepEqual(items, [1, 10, 2, 20]);
  });

  it("a step that throws: its items first, then the error, and the batches are closed", async () => {
    const { iterator, log } = source([1, 2, 3]);
    const stream = expandBatches(
      iterator,
      (b: number, out: number[]) => {
        out.push(b);
        if (b === 2) throw new Error("bad batch");
        return undefined;
      },
      (out) => out.push(-1),
    );
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const x of stream) seen.push(x);
    }, /bad batch/);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(log, ["next", "next", "return"]);
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  it("a step that says the items are complete: the batches are closed unread, then the closing items", async () => {
    const { iterator, log } = source([1, 2, 3]);
    const items = await all(
      expandBatches(
        iterator,
        (b: number, out: number[]) => {
          out.push(b);
          return b === 2 ? true : undefined;
        },
        (out) => out.push(-1),
      ),
    );
    assert.deepEqual(items, [1, 2, -1]);
    assert.deepEqual(log, ["next", "next", "return"]);
  });

  it("leaving early closes the batches, once", async () => {
    const { iterator, log } = source([1, 2, 3]);
    const stream = expandBatches(iterator, twice, () => {});
    assert.deepEqual(await stream.next(), { done: false, value: 1 });
    await stream.return?.();
    await stream.return?.();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
    assert.deepEqual(log, ["next", "return"]);
  });

  it("a failing source fails the stream, after the items already read", async () => {
    let calls = 0;
    const failing: AsyncIterableIterator<number> = {
      [Symbol.asyncIterator]: () => failing,
      async next() {
        calls++;
        if (calls === 2) throw new Error("socket closed");
        return { done: false, value: 5 };
      },
    };
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const x of expandBatches(failing, twice, () => {})) seen.push(x);
    }, /socket closed/);
    assert.deepEqual(seen, [5, 50]);
  });
});

describe("takeReady: a read's items handed over at once", () => {
  const triple = (batch: number, out: number[]) => {
    out.push(batch, batch + 1, batch + 2);
    return undefined;
  };

  it("expandBatches gives the rest of the current batch, then next() goes on with the next batch", async () => {
    const { iterator } = source([10, 20]);
    const stream = expandBatches(iterator, triple, (out) => out.push(-1));
    assert.deepEqual(await stream.next(), { done: false, value: 10 });
    assert.deepEqual(takeReady(stream), [11, 12]);
    assert.equal(takeReady(stream), undefined, "nothing more without waiting");
    assert.deepEqual(await stream.next(), { done: false, value: 20 });
    assert.deepEqual(takeReady(stream), [21, 22]);
    assert.deepEqual(await stream.next(), { done: false, value: -1 });
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  it("a failure after a batch's items is not given by takeReady but by the next next()", async () => {
    const { iterator } = source([1]);
    const stream = expandBatches(
      iterator,
      (b: number, out: number[]) => {
        out.push(b, b + 1);
        throw new Error("bad chunk");
      },
      () => {},
    );
    assert.deepEqual(await stream.next(), { done: false, value: 1 });
    assert.deepEqual(takeReady(stream), [2]);
    await assert.rejects(stream.next(), /bad chunk/);
  });

  it("passes through lazyStream and prepended; a list source is handed over whole", async () => {
    const { iterator } = source([1, 4]);
    const lazy = lazyStream(async () => expandBatches(iterator, triple, () => {}));
    const first = await lazy.next();
    const stream = prepended(first, lazy);
    assert.equal(takeReady(stream), undefined, "the prepended result has not been read yet");
    assert.deepEqual(await stream.next(), { done: false, value: 1 });
    assert.deepEqual(takeReady(stream), [2, 3]);
    assert.deepEqual(await stream.next(), { done: false, value: 4 });
    assert.deepEqual(takeReady(stream), [5, 6]);
    assert.deepEqual(await stream.next(), { done: true, value: undefined });

    const list = lazyStream(async () => [7, 8, 9]);
    assert.equal(takeReady(list), undefined, "not started");
    assert.deepEqual(await list.next(), { done: false, value: 7 });
    assert.deepEqual(takeReady(list), [8, 9]);
    assert.deepEqual(await list.next(), { done: true, value: undefined });
  });

  it("a stream without takeReady is read one item at a time", async () => {
    const { iterator } = source([1, 2]);
    assert.equal(takeReady(iterator), undefined);
  });
});

describe("forEachItem", () => {
  it("reads every item in order, a batch's without waiting between them", async () => {
    const { iterator } = source([1, 10]);
    const seen: number[] = [];
    await forEachItem(
      expandBatches(
        iterator,
        (b: number, out: number[]) => {
          out.push(b, b + 1, b + 2);
          return undefined;
        },
        () => {},
      ),
      (x) => {
        seen.push(x);
      },
    );
    assert.deepEqual(seen, [1, 2, 3, 10, 11, 12]);
  });

  it("waits for an item's promise before the next item, even within a batch", async () => {
    const { iterator } = source([1]);
    const order: string[] = [];
    await forEachItem(
      expandBatches(
        iterator,
        (b: number, out: number[]) => {
          out.push(b, b + 1);
          return undefined;
        },
        () => {},
      ),
      async (x) => {
        order.push(`start ${x}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`end ${x}`);
      },
    );
    assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2"]);
  });

  it("an item that fails closes the stream, as for-await would; a stream that fails is not closed again", async () => {
    const { iterator, log } = source([1, 2, 3]);
    await assert.rejects(
      forEachItem(iterator, (x) => {
        if (x === 2) throw new Error("client gone");
      }),
      /client gone/,
    );
    assert.deepEqual(log, ["next", "next", "return"]);

    let returned = 0;
    const failing: AsyncIterableIterator<number> = {
      [Symbol.asyncIterator]: () => failing,
      next: async () => {
        throw new Error("upstream reset");
      },
      return: async () => {
        returned++;
        return { done: true, value: undefined };
      },
    };
    await assert.rejects(
      forEachItem(failing, () => {}),
      /upstream reset/,
    );
    assert.equal(returned, 0);
  });
});

describe("readsOf", () => {
  it("gives a stream's items in the batches they arrive in, one at a time from a stream without takeReady", async () => {
    const { iterator } = source([1, 10]);
    const batched = expandBatches(
      iterator,
      (b: number, out: number[]) => {
        out.push(b, b + 1);
        return undefined;
      },
      () => {},
    );
    assert.deepEqual(await all(readsOf(batched)), [
      [1, 2],
      [10, 11],
    ]);
    assert.deepEqual(await all(readsOf(source([3, 4]).iterator)), [[3], [4]]);
  });

  it("leaving early closes the stream", async () => {
    const { iterator, log } = source([1, 2, 3]);
    for await (const batch of readsOf(iterator)) {
      assert.deepEqual(batch, [1]);
      break;
    }
    assert.deepEqual(log, ["next", "return"]);
  });
});
