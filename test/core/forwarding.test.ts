/**
 * The forwarding stream helpers: a lazy stream starts on its first next() and not before, a stream
 * left before it began never starts, one left while starting closes what started; a prepended
 * result comes first, and leaving closes the rest.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lazyStream, prepended } from "../../src/core/index.js";

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
