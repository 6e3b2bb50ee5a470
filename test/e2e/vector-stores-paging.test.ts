/**
 * Paging OpenAI's vector store lists back with `before`, through the official openai SDK: the
 * `limit` items just before the cursor (the previous page, as OpenAI documents the cursor), in the
 * list's order, for the stores and for a store's files, ascending and descending, over the
 * encrypted store and with the store off. `has_more` says whether more lie further back.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { type RunningTandem, startTandem } from "../support/tandem.js";

for (const storeOn of [true, false]) {
  describe(`vector store lists paged back with before (${storeOn ? "encrypted store" : "store off"})`, () => {
    let tandem: RunningTandem;
    let client: OpenAI;
    const stores: string[] = [];
    const files: string[] = [];
    let storeId = "";

    before(async () => {
      tandem = await startTandem({}, { store: storeOn });
      client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      for (let i = 0; i < 5; i++) stores.push((await client.vectorStores.create({ name: `s${i}` })).id);
      for (let i = 0; i < 5; i++) {
        const file = await client.files.create({
          file: await toFile(Buffer.from(`note ${i}`), `n${i}.txt`),
          purpose: "assistants",
        });
        files.push(file.id);
      }
      storeId = stores[0] as string;
      for (const id of files) await client.vectorStores.files.create(storeId, { file_id: id });
      await tandem.server.vectorStores.idle();
    });
    after(() => tandem?.close());

    const ids = (page: { data: { id: string }[] }) => page.data.map((item) => item.id);

    it("gives the stores just before the cursor, in the list's order", async () => {
      // Ascending s0..s4: before s4, two at a time, is s2 s3 (more further back), then s0 s1 (no more).
      const late = await client.vectorStores.list({ order: "asc", limit: 2, before: stores[4] as string });
      assert.deepEqual(ids(late), [stores[2], stores[3]]);
      assert.equal(late.has_more, true);
      const early = await client.vectorStores.list({ order: "asc", limit: 2, before: stores[2] as string });
      assert.deepEqual(ids(early), [stores[0], stores[1]]);
      assert.equal(early.has_more, false);
      // Descending s4..s0: before s0 is s2 s1.
      const desc = await client.vectorStores.list({ order: "desc", limit: 2, before: stores[0] as string });
      assert.deepEqual(ids(desc), [stores[2], stores[1]]);
      assert.equal(desc.has_more, true);
      // Between two cursors: only what lies between them.
      const between = await client.vectorStores.list({
        order: "asc",
        limit: 5,
        after: stores[0] as string,
        before: stores[3] as string,
      });
      assert.deepEqual(ids(between), [stores[1], stores[2]]);
      assert.equal(between.has_more, false);
    });

    it("gives a store's files just before the cursor, in the list's order", async () => {
      const asc = await client.vectorStores.files.list(storeId, { order: "asc", limit: 2, before: files[3] as string });
      assert.deepEqual(ids(asc), [files[1], files[2]]);
      assert.equal(asc.has_more, true);
      const desc = await client.vectorStores.files.list(storeId, { order: "desc", limit: 3, before: files[2] as string });
      assert.deepEqual(ids(desc), [files[4], files[3]]);
      assert.equal(desc.has_more, false);
    });
  });
}
