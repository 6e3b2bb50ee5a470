/**
 * The one SSE reader every upstream stream goes through keeps the first and the last event whatever
 * the framing: a UTF-8 byte order mark before the first line is skipped (WHATWG `stream = [ bom ]
 * *event`), also when its three bytes come in separate reads; a stream whose lines end in a lone CR,
 * or whose last event lacks its blank line, still dispatches that event at its end. NDJSON tolerates
 * a byte order mark too.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventSourceMessage } from "eventsource-parser";
import { readNdjsonBatches, readSseBatches } from "../../../src/providers/http/index.js";

async function events(reads: (string | Buffer)[]): Promise<Pick<EventSourceMessage, "event" | "data">[]> {
  const out: Pick<EventSourceMessage, "event" | "data">[] = [];
  for await (const batch of readSseBatches(
    (async function* () {
      yield* reads;
    })(),
    { target: "t/m" },
  ))
    for (const { event, data } of batch) out.push(event === undefined ? { data } : { event, data });
  return out;
}

/** Every way of cutting `bytes` in three reads (two cut points), to cover a BOM or a line end split anywhere. */
function cuts(bytes: Buffer, upTo = bytes.length): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 1; i < upTo; i++)
    for (let j = i; j < upTo; j++) out.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
  return out;
}

describe("readSseBatches: the first and last events", () => {
  it("skips a byte order mark before the first line, so the first event is kept, however its bytes are split", async () => {
    const bytes = Buffer.from('\uFEFFevent: message_start\ndata: {"a":1}\n\ndata: {"b":2}\n\n');
    const want = [{ event: "message_start", data: '{"a":1}' }, { data: '{"b":2}' }];
    assert.deepEqual(await events([bytes]), want);
    for (const reads of cuts(bytes, 8)) assert.deepEqual(await events(reads), want, `reads ${reads.map((r) => r.length)}`);
    // Decoded text from a reader of strings, too.
    assert.deepEqual(await events(['\uFEFFdata: {"a":1}\n\n']), [{ data: '{"a":1}' }]);
  });

  it("skips one byte order mark only: a second one starts the first line, which is no field the reader knows", async () => {
    assert.deepEqual(await events(['\uFEFF\uFEFFdata: {"a":1}\n\ndata: {"b":2}\n\n']), [{ data: '{"b":2}' }]);
  });

  it("a byte order mark later in the stream is the text it is in", async () => {
    assert.deepEqual(await events(['data: {"a":1}\n\ndata: "\uFEFF"\n\n']), [{ data: '{"a":1}' }, { data: '"\uFEFF"' }]);
  });

  it("dispatches the last event of a stream whose lines end in a lone CR, however the last CRs are split", async () => {
    const bytes = Buffer.from("event: a\rdata: 1\r\revent: response.completed\rdata: 2\r\r");
    const want = [
      { event: "a", data: "1" },
      { event: "response.completed", data: "2" },
    ];
    assert.deepEqual(await events([bytes]), want);
    for (const at of [bytes.length - 1, bytes.length - 2, bytes.length - 3])
      assert.deepEqual(await events([bytes.subarray(0, at), bytes.subarray(at)]), want);
  });

  it("dispatches a last event without its blank line, or without any line end", async () => {
    assert.deepEqual(await events(["data: 1\n\nevent: end\ndata: 2\n"]), [{ data: "1" }, { event: "end", data: "2" }]);
    assert.deepEqual(await events(["data: 1\n\nevent: end\ndata: 2"]), [{ data: "1" }, { event: "end", data: "2" }]);
    assert.deepEqual(await events(["data: 1\r\n\r\ndata: 2\r\n"]), [{ data: "1" }, { data: "2" }]);
    // A last line that is only a field name without data dispatches nothing.
    assert.deepEqual(await events(["data: 1\n\nevent: end"]), [{ data: "1" }]);
  });
});

describe("readNdjsonBatches: a byte order mark", () => {
  it("is not part of the first line, however its bytes are split", async () => {
    const bytes = Buffer.from('\uFEFF{"a":1}\n{"b":2}\n');
    for (const reads of cuts(bytes, 6)) {
      const lines: string[] = [];
      for await (const batch of readNdjsonBatches(
        (async function* () {
          yield* reads;
        })(),
        { target: "t/m" },
      ))
        lines.push(...batch);
      assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
    }
  });
});
