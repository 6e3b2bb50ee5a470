import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type BatchLine, type BatchRecord, type BatchStore, NO_BATCH_USAGE } from "../../../src/core/batches.js";

/**
 * The BatchStore contract, run against every implementation (memory and the encrypted store): a
 * batch and its lines in and out as they were, counts read from the lines, status changes only from
 * the statuses named, lines added only while validating, pending lines in order and paged, a line
 * finished once (its usage added with it), the rest ended together, listing newest first by kind
 * with both cursors (an unknown one said so), the unfinished batches, deletes with their lines.
 */
export function batchStoreSuite(name: string, open: () => Promise<{ store: BatchStore; close(): Promise<void> }>) {
  describe(`${name} (BatchStore contract)`, () => {
    let store: BatchStore;
    let close: () => Promise<void>;
    let n = 0;
    before(async () => {
      ({ store, close } = await open());
    });
    after(() => close());

    const record = (extra: Partial<BatchRecord> = {}): BatchRecord => ({
      id: `batch_${String(++n).padStart(4, "0")}`,
      endpoint: "/v1/chat/completions",
      inputFileId: "file-abc",
      completionWindow: "24h",
      status: "validating",
      createdAt: 1_700_000_000,
      expiresAt: 1_700_086_400,
      usage: NO_BATCH_USAGE,
      ...extra,
    });
    const lines = (count: number): BatchLine[] =>
      Array.from({ length: count }, (_, i) => ({
        index: i,
        customId: `c${i}`,
        body: { model: "m", messages: [{ role: "user", content: `l${i} ü` }] },
      }));
    const answer = { kind: "response" as const, statusCode: 200, requestId: "req_1", body: { ok: true } };

    it("stores a batch and gives it back with its counts", async () => {
      const batch = record({ metadata: { a: "b" }, sensitivity: "private", outputExpiresAfter: 3600 });
      await store.createBatch(batch);
      assert.deepEqual(await store.getBatch(batch.id), {
        ...batch,
        counts: { total: 0, processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      });
      assert.equal(await store.getBatch("batch_none"), undefined);
    });

    it("changes a status only from the statuses named", async () => {
      const batch = record();
      await store.createBatch(batch);
      assert.equal(await store.updateBatch(batch.id, { status: "failed", failedAt: 5 }, ["in_progress"]), undefined);
      const failed = await store.updateBatch(
        batch.id,
        { status: "failed", failedAt: 5, errors: [{ code: "empty_file", message: "m" }] },
        ["validating"],
      );
      assert.equal(failed?.status, "failed");
      assert.deepEqual(failed?.errors, [{ code: "empty_file", message: "m" }]);
      assert.equal((await store.getBatch(batch.id))?.failedAt, 5);
      assert.equal(await store.updateBatch("batch_none", { status: "failed" }, ["validating"]), undefined);
    });

    it("adds lines only while validating, with the patch that starts them", async () => {
      const batch = record();
      await store.createBatch(batch);
      assert.equal(await store.addLines(batch.id, lines(3), { status: "in_progress", inProgressAt: 7, model: "m" }), true);
      const started = await store.getBatch(batch.id);
      assert.equal(started?.status, "in_progress");
      assert.equal(started?.model, "m");
      assert.deepEqual(started?.counts, { total: 3, processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
      assert.equal(await store.addLines(batch.id, lines(1), { status: "in_progress" }), false, "not validating any more");
      assert.equal(await store.addLines("batch_none", lines(1), { status: "in_progress" }), false);
      assert.deepEqual(await store.pendingLines(batch.id, -1, 10), lines(3));
    });

    it("pages pending lines in order and finishes each line once, adding its usage", async () => {
      const batch = record({ status: "in_progress" });
      await store.createBatch(batch, lines(5));
      assert.deepEqual(
        (await store.pendingLines(batch.id, -1, 2)).map((l) => l.index),
        [0, 1],
      );
      assert.deepEqual(
        (await store.pendingLines(batch.id, 1, 2)).map((l) => l.index),
        [2, 3],
      );
      const usage = { inputTokens: 10, outputTokens: 3, cachedTokens: 1, reasoningTokens: 2 };
      const line = { index: 1, customId: "c1", id: "batch_req_1", result: "succeeded" as const, outcome: answer };
      assert.equal(await store.finishLine(batch.id, line, usage), true);
      assert.equal(await store.finishLine(batch.id, line, usage), false, "a line is finished once");
      assert.equal(
        await store.finishLine(batch.id, {
          ...line,
          index: 3,
          customId: "c3",
          result: "errored",
          outcome: { kind: "error", code: "x", message: "y" },
        }),
        true,
      );
      assert.equal(await store.finishLine("batch_none", line, usage), false);
      const after = await store.getBatch(batch.id);
      assert.deepEqual(after?.usage, usage, "added once");
      assert.deepEqual(after?.counts, { total: 5, processing: 3, succeeded: 1, errored: 1, canceled: 0, expired: 0 });
      assert.deepEqual(
        (await store.pendingLines(batch.id, -1, 10)).map((l) => l.index),
        [0, 2, 4],
      );
      assert.equal(await store.finishPending(batch.id, "canceled", { kind: "error", code: "batch_cancelled", message: "c" }), 3);
      assert.deepEqual(await store.pendingLines(batch.id, -1, 10), []);
      const finished = await store.finishedLines(batch.id, -1, 10);
      assert.deepEqual(
        finished.map((l) => [l.index, l.customId, l.result]),
        [
          [0, "c0", "canceled"],
          [1, "c1", "succeeded"],
          [2, "c2", "canceled"],
          [3, "c3", "errored"],
          [4, "c4", "canceled"],
        ],
      );
      assert.deepEqual(finished[1]?.outcome, answer);
      assert.equal(finished[1]?.id, "batch_req_1");
      for (const l of finished) assert.match(l.id, /^batch_req_/);
      assert.deepEqual(
        (await store.finishedLines(batch.id, 2, 1)).map((l) => l.index),
        [3],
      );
      assert.deepEqual((await store.getBatch(batch.id))?.counts, {
        total: 5,
        processing: 0,
        succeeded: 1,
        errored: 1,
        canceled: 3,
        expired: 0,
      });
    });

    it("lists newest first by kind, pages with after and before, and says when a cursor names nothing", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const batch = record({ id: `list_${i}` });
        await store.createBatch(batch);
        ids.push(batch.id);
      }
      await store.createBatch(record({ id: "other_1" }));
      const first = await store.listBatches({ prefix: "list_", limit: 3 });
      assert.deepEqual(
        first.data.map((b) => b.id),
        ["list_3", "list_2", "list_1"],
      );
      assert.equal(first.hasMore, true);
      const rest = await store.listBatches({ prefix: "list_", limit: 3, after: "list_1" });
      assert.deepEqual(
        rest.data.map((b) => b.id),
        ["list_0"],
      );
      assert.equal(rest.hasMore, false);
      const newer = await store.listBatches({ prefix: "list_", limit: 2, before: "list_0" });
      assert.deepEqual(
        newer.data.map((b) => b.id),
        ["list_2", "list_1"],
      );
      assert.equal(newer.hasMore, true);
      assert.deepEqual(await store.listBatches({ prefix: "list_", limit: 2, after: "nope" }), {
        data: [],
        hasMore: false,
        unknownCursor: "after",
      });
      assert.deepEqual(await store.listBatches({ prefix: "list_", limit: 2, before: "nope" }), {
        data: [],
        hasMore: false,
        unknownCursor: "before",
      });
      assert.equal(
        (await store.listBatches({ prefix: "list_", limit: 2, after: "other_1" })).unknownCursor,
        "after",
        "another kind's id",
      );
    });

    it("finds the unfinished batches, oldest first, and deletes a batch with its lines", async () => {
      const running = record({ status: "in_progress" });
      const done = record({ status: "completed" });
      const cancelling = record({ status: "cancelling" });
      await store.createBatch(running, lines(2));
      await store.createBatch(done);
      await store.createBatch(cancelling);
      const unfinished = (await store.unfinishedBatches()).map((b) => b.id);
      assert.ok(unfinished.includes(running.id) && unfinished.includes(cancelling.id));
      assert.ok(!unfinished.includes(done.id));
      assert.ok(unfinished.indexOf(running.id) < unfinished.indexOf(cancelling.id));
      assert.equal(await store.deleteBatch(running.id), true);
      assert.equal(await store.getBatch(running.id), undefined);
      assert.deepEqual(await store.pendingLines(running.id, -1, 10), []);
      assert.equal(await store.deleteBatch(running.id), false);
    });

    it("gives copies: changing what was saved or read changes nothing stored", async () => {
      const batch = record({ status: "in_progress", metadata: { k: "v" } });
      const input = lines(1);
      await store.createBatch(batch, input);
      (batch.metadata as Record<string, string>).k = "changed";
      (input[0] as BatchLine).body.model = "changed";
      const read = await store.getBatch(batch.id);
      assert.deepEqual(read?.metadata, { k: "v" });
      (read?.metadata as Record<string, string>).k = "again";
      assert.deepEqual((await store.getBatch(batch.id))?.metadata, { k: "v" });
      assert.equal((await store.pendingLines(batch.id, -1, 1))[0]?.body.model, "m");
    });
  });
}
