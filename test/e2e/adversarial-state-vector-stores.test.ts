/**
 * The Vector Stores API driven as an adversarial client would, through the official openai SDK, over
 * the encrypted store and with the store off. Each case here was a bug.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
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

    it("`before` bounds a list of stores as the SDK's params say (it was ignored: the first page came back)", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await client.vectorStores.create({ name: `before-${i}` })).id);
      const [s0, s1, s2, s3, s4] = ids as [string, string, string, string, string];
      // Newest first (desc): s4 s3 s2 s1 s0. Before s1: s4 s3 s2.
      const desc = await client.vectorStores.list({ limit: 2, before: s1 });
      assert.deepEqual(
        desc.data.map((s) => s.id),
        [s4, s3],
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
      // The SDK's auto-paging keeps `before` in every page's query: it walks up to it and stops.
      const walked: string[] = [];
      for await (const store of client.vectorStores.list({ limit: 1, before: s2 })) walked.push(store.id);
      assert.deepEqual(walked, [s4, s3]);
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
