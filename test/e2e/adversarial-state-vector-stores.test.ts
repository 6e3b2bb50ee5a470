/**
 * The Vector Stores API driven as an adversarial client would, through the official openai SDK, over
 * the encrypted store and with the store off. Each case here was a bug.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { MemoryFileStore } from "../../src/harness/files/memory-file-store.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

for (const storeOn of [true, false]) {
  describe(`vector stores, adversarially (${storeOn ? "encrypted store" : "store off"})`, () => {
    let tandem: RunningTandem;
    let client: OpenAI;

    before(async () => {
      tandem = await startTandem({}, { store: storeOn });
      client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    });
    after(() => tandem?.close());

    it("`before` pages a list of stores back as the SDK's params say (it was ignored: the first page came back)", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await client.vectorStores.create({ name: `before-${i}` })).id);
      const [s0, s1, s2, s3, s4] = ids as [string, string, string, string, string];
      // Newest first (desc): s4 s3 s2 s1 s0. The previous page before s1, two at a time: s3 s2, and s4 further back.
      const desc = await client.vectorStores.list({ limit: 2, before: s1 });
      assert.deepEqual(
        desc.data.map((s) => s.id),
        [s3, s2],
      );
      assert.equal(desc.has_more, true);
      const rest = await client.vectorStores.list({ limit: 2, before: s1, after: s3 });
      assert.deepEqual(
        rest.data.map((s) => s.id),
        [s2],
      );
      assert.equal(rest.has_more, false);
      // Oldest first: before s2 are s0 and s1 only (and whatever older stores other tests made).
      const asc = await client.vectorStores.list({ limit: 100, order: "asc", before: s2 });
      assert.deepEqual(
        asc.data.map((s) => s.id).filter((id) => ids.includes(id)),
        [s0, s1],
      );
      assert.equal(asc.has_more, false);
      // The SDK's auto-paging keeps `before` and moves `after` to each page's last item: after the
      // previous page nothing lies between the two, so the walk ends there (s4 is further back).
      const walked: string[] = [];
      for await (const store of client.vectorStores.list({ limit: 1, before: s2 })) walked.push(store.id);
      assert.deepEqual(walked, [s3]);
      assert.ok(!walked.includes(s4));
    });

    it("`before` bounds a store's files and a batch's files too", async () => {
      const files = [];
      for (let i = 0; i < 3; i++) {
        files.push(
          await client.files.create({
            file: await toFile(Buffer.from(`note ${i} about kites`), `n${i}.txt`),
            purpose: "assistants",
          }),
        );
      }
      const [f0, f1, f2] = files.map((f) => f.id) as [string, string, string];
      const vs = await client.vectorStores.create({ name: "files-before" });
      const batch = await client.vectorStores.fileBatches.createAndPoll(vs.id, { file_ids: [f0, f1, f2] });
      const listed = await client.vectorStores.files.list(vs.id, { order: "asc" });
      const order = listed.data.map((f) => f.id);
      assert.equal(order.length, 3);
      const page = await client.vectorStores.files.list(vs.id, { order: "asc", before: order[2] as string });
      assert.deepEqual(
        page.data.map((f) => f.id),
        order.slice(0, 2),
      );
      const inBatch = await client.vectorStores.fileBatches.listFiles(batch.id, {
        vector_store_id: vs.id,
        order: "desc",
        before: order[0] as string,
      });
      assert.deepEqual(
        inBatch.data.map((f) => f.id),
        [order[2], order[1]],
      );
    });
  });
}

describe("vector stores and a Files API file that expires (expires_after)", () => {
  let tandem: RunningTandem;
  let client: OpenAI;
  let now = 1_800_000_000;

  before(async () => {
    tandem = await startTandem({}, { files: new MemoryFileStore(() => now) });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  after(() => tandem?.close());

  it("an expired file leaves the stores: its record and its chunks are no longer read (its text was still served)", async () => {
    const expiring = await client.files.create({
      file: await toFile(Buffer.from("The vault code is kept in the blue notebook."), "secret.txt"),
      purpose: "assistants",
      expires_after: { anchor: "created_at", seconds: 3600 },
    });
    const lasting = await client.files.create({
      file: await toFile(Buffer.from("The garden gate is painted green."), "garden.txt"),
      purpose: "assistants",
    });
    const vs = await client.vectorStores.create({ name: "expiry" });
    await client.vectorStores.files.createAndPoll(vs.id, { file_id: expiring.id });
    await client.vectorStores.files.createAndPoll(vs.id, { file_id: lasting.id });
    assert.equal((await client.vectorStores.files.content(expiring.id, { vector_store_id: vs.id })).data.length, 1);

    now += 3601;
    await assert.rejects(client.files.retrieve(expiring.id), OpenAI.NotFoundError);
    await assert.rejects(client.vectorStores.files.content(expiring.id, { vector_store_id: vs.id }), OpenAI.NotFoundError);
    await assert.rejects(client.vectorStores.files.retrieve(expiring.id, { vector_store_id: vs.id }), OpenAI.NotFoundError);
    const listed = await client.vectorStores.files.list(vs.id, { limit: 1 });
    assert.deepEqual(
      listed.data.map((f) => f.id),
      [lasting.id],
    );
    assert.equal(listed.has_more, false);
    const store = await client.vectorStores.retrieve(vs.id);
    assert.equal(store.file_counts.total, 1);
  });
});
