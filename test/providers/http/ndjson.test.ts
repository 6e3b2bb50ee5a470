/**
 * The NDJSON reader gives a network read's lines as one batch: lines split across reads are joined,
 * blank lines dropped, a character split across reads kept whole, a last line without a newline
 * kept, and a line past the limit refused once that much of it is held.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readNdjsonBatches } from "../../../src/providers/http/index.js";

async function batches(reads: (string | Buffer)[], maxLineBytes?: number): Promise<string[][]> {
  const out: string[][] = [];
  for await (const batch of readNdjsonBatches(
    (async function* () {
      yield* reads;
    })(),
    { target: "t/m", maxLineBytes },
  ))
    out.push(batch);
  return out;
}

describe("readNdjsonBatches", () => {
  it("one batch per read, with the lines completed in it", async () => {
    assert.deepEqual(await batches(['{"a":1}\n{"b"', ':2}\n\n  \n{"c":3}\n{"d"', ":4}"]), [
      ['{"a":1}'],
      ['{"b":2}', '{"c":3}'],
      ['{"d":4}'],
    ]);
  });

  it("keeps a character split across two reads whole", async () => {
    const bytes = Buffer.from('{"t":"é€"}\n');
    assert.deepEqual(await batches([bytes.subarray(0, 7), bytes.subarray(7)]), [['{"t":"é€"}']]);
  });

  it("reads a long line that comes in small reads without searching it again for each", async () => {
    // 4 MB in 256-byte reads (an upstream that drips): searched whole on every read, it took half a minute.
    const reads = ['{"a":"', ..."x".repeat(4 * 1024 * 1024).match(/.{256}/g)!, '"}\n{"b":1}'];
    const started = performance.now();
    const out = await batches(reads);
    const ms = performance.now() - started;
    assert.ok(ms < 3000, `read in ${Math.round(ms)} ms`);
    assert.deepEqual(
      out.map((batch) => batch.map((line) => line.length)),
      [[4 * 1024 * 1024 + 8], [7]],
    );
  });

  it("refuses a line longer than maxLineBytes while it is still coming", async () => {
    await assert.rejects(batches(['{"a":1}\n', "x".repeat(40), "x".repeat(40)], 64), /limits\.maxLineBytes/);
  });
});
