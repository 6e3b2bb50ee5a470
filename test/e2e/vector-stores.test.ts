/**
 * OpenAI's Vector Stores API on a real tandem, through the official openai SDK: stores (create,
 * retrieve, update, list with auto-paging, delete), their files (`createAndPoll`, `uploadAndPoll`,
 * list with the status filter, retrieve, attributes, content, delete), search (a query, several,
 * filters on attributes, FTS5 syntax in the query, score threshold, bounds), run over the encrypted
 * store and with the store off; then a crash mid-ingestion (a file left in_progress in the database)
 * resumed at the next start, stores surviving a restart, and a deleted Files API file leaving every
 * store.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { MemoryFileStore } from "../../src/harness/files/memory-file-store.js";
import { openStore } from "../../src/store/index.js";
import { gatedFileStore } from "../support/gated-file-store.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const DOCS: Record<string, string> = {
  "sailing.md":
    "# Sailing\nThe harbour opens at dawn. Our sailboat Aurora is moored at pier 7, and the skipper checks the rigging every morning.",
  "baking.md":
    "# Baking\nSourdough needs a lively starter. Feed the starter with flour and water, then bake the loaf at 250 degrees.",
  "astronomy.txt": "Jupiter has dozens of moons; Europa hides an ocean under its ice. Telescopes see the Galilean moons easily.",
};

async function upload(client: OpenAI, name: string, text: string) {
  return client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "assistants" });
}

for (const storeOn of [true, false]) {
  describe(`vector stores (${storeOn ? "encrypted store" : "store off"})`, () => {
    let tandem: RunningTandem;
    let client: OpenAI;
    const ids: Record<string, string> = {};

    before(async () => {
      tandem = await startTandem({ vectorStores: { maxFiles: 4, maxQueryChars: 200 } }, { store: storeOn });
      client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      for (const [name, text] of Object.entries(DOCS)) ids[name] = (await upload(client, name, text)).id;
    });
    after(() => tandem?.close());

    it("creates a store with files, which complete; retrieves, updates, lists and deletes it", async () => {
      const created = await client.vectorStores.create({
        name: "notes",
        description: "my notes",
        file_ids: [ids["sailing.md"] as string, ids["baking.md"] as string],
        metadata: { project: "x" },
        expires_after: { anchor: "last_active_at", days: 7 },
      });
      assert.match(created.id, /^vs_[A-Za-z0-9]{24}$/);
      assert.equal(created.object, "vector_store");
      assert.equal(created.name, "notes");
      assert.deepEqual(created.metadata, { project: "x" });
      assert.deepEqual(created.expires_after, { anchor: "last_active_at", days: 7 });
      assert.equal(created.file_counts.total, 2);
      assert.equal(created.expires_at, (created.last_active_at as number) + 7 * 86400);
      await tandem.server.vectorStores.idle();
      const done = await client.vectorStores.retrieve(created.id);
      assert.equal(done.status, "completed");
      assert.deepEqual(done.file_counts, { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 });
      assert.ok(done.usage_bytes > 100);
      const updated = await client.vectorStores.update(created.id, {
        name: "renamed",
        metadata: { a: "b" },
        expires_after: null,
      });
      assert.equal(updated.name, "renamed");
      assert.deepEqual(updated.metadata, { a: "b" });
      assert.equal(updated.expires_after, undefined);
      assert.equal(updated.expires_at, null);

      const more = await Promise.all([1, 2, 3].map((n) => client.vectorStores.create({ name: `s${n}` })));
      const seen: string[] = [];
      for await (const store of client.vectorStores.list({ limit: 2, order: "asc" })) seen.push(store.id);
      const mine = [created.id, ...more.map((s) => s.id)];
      assert.deepEqual(
        seen.filter((id) => mine.includes(id)),
        mine,
      );
      const firstPage = await client.vectorStores.list({ limit: 1 });
      assert.equal(firstPage.data[0]?.id, more[2]?.id, "newest first by default");
      assert.equal(firstPage.has_more, true);

      for (const store of more)
        assert.deepEqual(await client.vectorStores.delete(store.id), {
          id: store.id,
          object: "vector_store.deleted",
          deleted: true,
        });
      await assert.rejects(client.vectorStores.retrieve(more[0]?.id as string), OpenAI.NotFoundError);
      ids.store = created.id;
    });

    it("adds files with createAndPoll and uploadAndPoll, with attributes; lists, filters, reads their content", async () => {
      const vs = ids.store as string;
      const astro = await client.vectorStores.files.createAndPoll(vs, {
        file_id: ids["astronomy.txt"] as string,
        attributes: { topic: "space", year: 2024, public: true },
        chunking_strategy: { type: "static", static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } },
      });
      assert.equal(astro.status, "completed");
      assert.equal(astro.id, ids["astronomy.txt"]);
      assert.equal(astro.object, "vector_store.file");
      assert.equal(astro.vector_store_id, vs);
      assert.equal(astro.last_error, null);
      assert.deepEqual(astro.attributes, { topic: "space", year: 2024, public: true });
      assert.deepEqual(astro.chunking_strategy, {
        type: "static",
        static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 },
      });

      const image = await client.vectorStores.files.uploadAndPoll(
        vs,
        await toFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]), "pixel.png"),
      );
      assert.equal(image.status, "failed");
      assert.equal(image.last_error?.code, "unsupported_file");

      const sailing = await client.vectorStores.files.retrieve(ids["sailing.md"] as string, { vector_store_id: vs });
      assert.deepEqual(sailing.chunking_strategy, {
        type: "static",
        static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
      });
      const withAttrs = await client.vectorStores.files.update(ids["sailing.md"] as string, {
        vector_store_id: vs,
        attributes: { topic: "sea", year: 2020 },
      });
      assert.deepEqual(withAttrs.attributes, { topic: "sea", year: 2020 });

      const all: string[] = [];
      for await (const f of client.vectorStores.files.list(vs, { limit: 1 })) all.push(f.id);
      assert.equal(all.length, 4);
      const failed = await client.vectorStores.files.list(vs, { filter: "failed" });
      assert.deepEqual(
        failed.data.map((f) => f.id),
        [image.id],
      );

      const content = await client.vectorStores.files.content(ids["baking.md"] as string, { vector_store_id: vs });
      assert.equal(content.data.length, 1);
      assert.equal(content.data[0]?.type, "text");
      assert.match(content.data[0]?.text ?? "", /Sourdough needs a lively starter/);
      const page = await (await fetch(`${tandem.url}/v1/vector_stores/${vs}/files/${ids["baking.md"]}/content`)).json();
      assert.deepEqual(Object.keys(page as object).sort(), ["data", "has_more", "next_page", "object"]);
      assert.equal((page as { object: string }).object, "vector_store.file_content.page");
    });

    it("searches: best first, scores 0..1, filters on attributes, several queries, FTS5 syntax taken as words", async () => {
      const vs = ids.store as string;
      const page = await client.vectorStores.search(vs, { query: "where is the sailboat moored?" });
      assert.equal(page.data[0]?.filename, "sailing.md");
      assert.equal(page.data[0]?.file_id, ids["sailing.md"]);
      assert.deepEqual(page.data[0]?.attributes, { topic: "sea", year: 2020 });
      assert.match(page.data[0]?.content[0]?.text ?? "", /pier 7/);
      for (const hit of page.data) assert.ok(hit.score > 0 && hit.score <= 1);
      const rawResponse = await fetch(`${tandem.url}/v1/vector_stores/${vs}/search`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: ["sourdough", "moons"], rewrite_query: true }),
      });
      const raw = (await rawResponse.json()) as {
        object: string;
        search_query: string[];
        data: { filename: string }[];
        has_more: boolean;
        next_page: null;
      };
      assert.equal(raw.object, "vector_store.search_results.page");
      assert.match(rawResponse.headers.get("x-tandem-warnings") ?? "", /rewrite_query was not applied/);
      assert.deepEqual(raw.search_query, ["sourdough", "moons"]);
      assert.deepEqual(raw.data.map((d) => d.filename).sort(), ["astronomy.txt", "baking.md"]);
      assert.equal(raw.has_more, false);

      const space = await client.vectorStores.search(vs, {
        query: "moons ocean sailboat starter",
        filters: { type: "eq", key: "topic", value: "space" },
      });
      assert.deepEqual([...new Set(space.data.map((d) => d.filename))], ["astronomy.txt"]);
      const recent = await client.vectorStores.search(vs, {
        query: "moons ocean sailboat starter",
        filters: {
          type: "or",
          filters: [
            { type: "gte", key: "year", value: 2024 },
            { type: "in", key: "topic", value: ["sea"] },
          ],
        },
      });
      assert.deepEqual([...new Set(recent.data.map((d) => d.filename))].sort(), ["astronomy.txt", "sailing.md"]);
      const none = await client.vectorStores.search(vs, {
        query: "moons",
        filters: { type: "ne", key: "topic", value: "space" },
      });
      assert.deepEqual(none.data, []);

      for (const query of ['"unbalanced', "NEAR(a b) OR * AND -", "pier:7 ^sail* (", "col:* {x}"]) {
        const res = await client.vectorStores.search(vs, { query });
        assert.ok(Array.isArray(res.data), query);
      }
      const quoted = await client.vectorStores.search(vs, { query: 'sailboat" OR "x' });
      assert.equal(quoted.data[0]?.filename, "sailing.md");

      const strict = await client.vectorStores.search(vs, { query: "sourdough", ranking_options: { score_threshold: 0.99 } });
      assert.deepEqual(strict.data, []);
      const one = await client.vectorStores.search(vs, { query: "the moons sailboat starter", max_num_results: 1 });
      assert.equal(one.data.length, 1);
    });

    it("finds words of every script in a file's chunks: Korean, Cyrillic й, voiced kana, Devanagari", async () => {
      const texts: Record<string, string> = {
        "ko.txt": "연차 휴가는 25일입니다.",
        "ru.txt": "Пользователь любит йогурт.",
        "ja.txt": "ユーザーは寿司が大好きです",
        "hi.txt": "उपयोगकर्ता को क्रिकेट पसंद है",
      };
      const files: Record<string, string> = {};
      for (const [name, text] of Object.entries(texts)) files[name] = (await upload(client, name, text)).id;
      const vs = await client.vectorStores.create({ name: "scripts", file_ids: Object.values(files) });
      await tandem.server.vectorStores.idle();
      const found = async (query: string) => (await client.vectorStores.search(vs.id, { query })).data.map((hit) => hit.filename);
      assert.deepEqual(await found("휴가는"), ["ko.txt"]);
      assert.deepEqual(await found("йогурт"), ["ru.txt"]);
      assert.deepEqual(await found("ユーザーは寿司が大好きです"), ["ja.txt"]);
      assert.deepEqual(await found("क्रिकेट"), ["hi.txt"]);
      assert.deepEqual(await found("иогурт"), []);
      await client.vectorStores.delete(vs.id);
      for (const id of Object.values(files)) await client.files.delete(id);
    });

    it("scores a store's chunks by that store alone: another store gaining files moves no score or threshold", async () => {
      const mine = [
        (await upload(client, "q.txt", "quokka lives on an island")).id,
        (await upload(client, "f.txt", "the ferry leaves at noon")).id,
      ];
      const vs = await client.vectorStores.create({ name: "island", file_ids: mine });
      await tandem.server.vectorStores.idle();
      const score = async () => (await client.vectorStores.search(vs.id, { query: "quokka" })).data.map((hit) => hit.score);
      const [before] = await score();
      assert.ok(before !== undefined && before > 0);

      // Chunks far longer than this store's, all holding the word: over every store, they would
      // change both the mean chunk length and how common the word is.
      const long = "quokka marsupial rottnest wildlife herbivore nocturnal ".repeat(6);
      const others = [];
      for (let i = 0; i < 4; i++) others.push((await upload(client, `other${i}.txt`, `${long} ${i}`)).id);
      const other = await client.vectorStores.create({ name: "unrelated", file_ids: others });
      await tandem.server.vectorStores.idle();
      assert.deepEqual(await score(), [before]);
      const kept = await client.vectorStores.search(vs.id, { query: "quokka", ranking_options: { score_threshold: before } });
      assert.equal(kept.data.length, 1, "a threshold tuned on this store keeps its hit");

      await client.vectorStores.delete(other.id);
      await client.vectorStores.delete(vs.id);
      for (const id of [...mine, ...others]) await client.files.delete(id);
    });

    it("refuses bad input with OpenAI's 400s naming the field, and unknown ids with 404s", async () => {
      const vs = ids.store as string;
      const bad = async (path: string, body: unknown, param: string, code?: string) => {
        const res = await fetch(`${tandem.url}/v1${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
        const err = ((await res.json()) as { error: { param: string; type: string; code: string; message: string } }).error;
        assert.equal(err.param, param);
        assert.equal(err.type, "invalid_request_error");
        if (code !== undefined) assert.equal(err.code, code, err.message);
      };
      await bad(`/vector_stores/${vs}/files`, {}, "file_id", "missing_required_parameter");
      await bad(`/vector_stores/${vs}/search`, {}, "query", "missing_required_parameter");
      await bad("/vector_stores", { nope: 5 }, "nope", "unknown_parameter");
      await bad(`/vector_stores/${vs}`, { bogus: 1 }, "bogus", "unknown_parameter");
      // A misspelt field is refused, never dropped: `max_results` would otherwise search with the default 10.
      await bad(`/vector_stores/${vs}/search`, { query: "x", max_results: 1 }, "max_results", "unknown_parameter");
      await bad(`/vector_stores/${vs}/files`, { file_id: ids["baking.md"], attribute: {} }, "attribute", "unknown_parameter");
      await bad(`/vector_stores/${vs}/files/${ids["baking.md"]}`, { attributes: {}, x: 1 }, "x", "unknown_parameter");
      await bad(
        `/vector_stores/${vs}/file_batches`,
        { file_ids: [ids["baking.md"]], chunking: {} },
        "chunking",
        "unknown_parameter",
      );
      await bad(
        `/vector_stores/${vs}/file_batches`,
        { files: [{ file_id: ids["baking.md"], attribute: {} }] },
        "files[0].attribute",
        "unknown_parameter",
      );
      await bad(`/vector_stores/${vs}/search`, { query: "x", filters: { type: "in", key: "a", value: "b" } }, "filters.value");
      await bad(`/vector_stores/${vs}/search`, { query: "x".repeat(201) }, "query");
      await bad(`/vector_stores/${vs}/search`, { query: "x", max_num_results: 51 }, "max_num_results");
      await bad(`/vector_stores/${vs}/search`, { query: "x", filters: { type: "like", key: "a", value: 1 } }, "filters.type");
      await bad(
        `/vector_stores/${vs}/search`,
        { query: "x", ranking_options: { score_threshold: 2 } },
        "ranking_options.score_threshold",
      );
      await bad(`/vector_stores/${vs}/search`, { query: 5 }, "query");
      await bad(
        "/vector_stores",
        { chunking_strategy: { type: "static", static: { max_chunk_size_tokens: 50, chunk_overlap_tokens: 0 } } },
        "chunking_strategy.static.max_chunk_size_tokens",
      );
      await bad(
        "/vector_stores",
        { chunking_strategy: { type: "static", static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 101 } } },
        "chunking_strategy.static.chunk_overlap_tokens",
      );
      await bad("/vector_stores", { file_ids: "file-x" }, "file_ids");
      await bad(`/vector_stores/${vs}/files`, { file_id: ids["baking.md"], attributes: { a: { nested: 1 } } }, "attributes.a");
      // The store holds 4 files (vectorStores.maxFiles): a fifth is refused.
      const fifth = await upload(client, "fifth.txt", "one more");
      await bad(`/vector_stores/${vs}/files`, { file_id: fifth.id }, "file_id");
      await assert.rejects(client.vectorStores.files.create(vs, { file_id: "file-nope" }), OpenAI.NotFoundError);
      await assert.rejects(client.vectorStores.retrieve("vs_nope"), OpenAI.NotFoundError);
      await assert.rejects(client.vectorStores.search("vs_nope", { query: "x" }), OpenAI.NotFoundError);
      await assert.rejects(client.vectorStores.files.retrieve("file-nope", { vector_store_id: vs }), OpenAI.NotFoundError);
      await assert.rejects(client.vectorStores.create({ file_ids: ["file-nope"] }), OpenAI.NotFoundError);
    });

    it("adds files in batches (createAndPoll, uploadAndPoll), lists a batch's files, cancels one", async () => {
      const vs = await client.vectorStores.create({ name: "batches" });
      const batch = await client.vectorStores.fileBatches.createAndPoll(vs.id, {
        file_ids: [ids["sailing.md"] as string, ids["astronomy.txt"] as string],
        attributes: { source: "batch" },
        chunking_strategy: { type: "static", static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 100 } },
      });
      assert.match(batch.id, /^vsfb_[A-Za-z0-9]{24}$/);
      assert.equal(batch.object, "vector_store.files_batch");
      assert.equal(batch.vector_store_id, vs.id);
      assert.equal(batch.status, "completed");
      assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 });
      const listed: string[] = [];
      for await (const f of client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: vs.id, limit: 1 })) {
        assert.deepEqual(f.attributes, { source: "batch" });
        assert.deepEqual(f.chunking_strategy, {
          type: "static",
          static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 100 },
        });
        listed.push(f.id);
      }
      assert.deepEqual(listed.sort(), [ids["sailing.md"], ids["astronomy.txt"]].sort());
      assert.equal(
        (await client.vectorStores.search(vs.id, { query: "sailboat", filters: { type: "eq", key: "source", value: "batch" } }))
          .data[0]?.filename,
        "sailing.md",
      );

      const uploaded = await client.vectorStores.fileBatches.uploadAndPoll(vs.id, {
        files: [await toFile(Buffer.from("Comets have tails of ice and dust."), "comets.txt")],
      });
      assert.equal(uploaded.status, "completed");
      assert.equal(uploaded.file_counts.completed, 1);
      assert.equal((await client.vectorStores.retrieve(vs.id)).file_counts.total, 3);

      const perFile = await client.vectorStores.fileBatches.create(vs.id, {
        files: [{ file_id: ids["sailing.md"] as string, attributes: { n: 1 } }],
      });
      // Cancelled if its file was still being ingested; one already done is answered as it ended
      // (the library's tests hold ingestion back to see both).
      const cancelled = await client.vectorStores.fileBatches.cancel(perFile.id, { vector_store_id: vs.id });
      assert.ok(["cancelled", "completed"].includes(cancelled.status), cancelled.status);
      assert.equal(
        (await client.vectorStores.fileBatches.retrieve(perFile.id, { vector_store_id: vs.id })).status,
        cancelled.status,
      );
      await assert.rejects(
        client.vectorStores.fileBatches.retrieve("vsfb_nope", { vector_store_id: vs.id }),
        OpenAI.NotFoundError,
      );
      const both = await fetch(`${tandem.url}/v1/vector_stores/${vs.id}/file_batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ file_ids: [ids["sailing.md"]], files: [{ file_id: ids["sailing.md"] }] }),
      });
      assert.equal(both.status, 400);
      await client.vectorStores.delete(vs.id);
    });

    it("a batch keeps its files and counts when a later batch adds one of them again; a removed file leaves both", async () => {
      const vs = await client.vectorStores.create({ name: "two batches" });
      const sailing = ids["sailing.md"] as string;
      const baking = ids["baking.md"] as string;
      const first = await client.vectorStores.fileBatches.createAndPoll(vs.id, { file_ids: [sailing, baking] });
      const second = await client.vectorStores.fileBatches.createAndPoll(vs.id, { file_ids: [sailing] });
      const counts = (n: number) => ({ in_progress: 0, completed: n, failed: 0, cancelled: 0, total: n });
      assert.deepEqual(second.file_counts, counts(1));
      const retrieved = await client.vectorStores.fileBatches.retrieve(first.id, { vector_store_id: vs.id });
      assert.equal(retrieved.status, "completed");
      assert.deepEqual(retrieved.file_counts, counts(2));
      const filesOf = async (batchId: string) => {
        const listed: string[] = [];
        for await (const f of client.vectorStores.fileBatches.listFiles(batchId, { vector_store_id: vs.id })) listed.push(f.id);
        return listed.sort();
      };
      assert.deepEqual(await filesOf(first.id), [sailing, baking].sort());
      assert.deepEqual(await filesOf(second.id), [sailing]);
      // The store holds each file once.
      assert.equal((await client.vectorStores.retrieve(vs.id)).file_counts.total, 2);
      // A file taken out of the store is in no batch of it any more, even when added again alone.
      await client.vectorStores.files.delete(sailing, { vector_store_id: vs.id });
      assert.deepEqual(await filesOf(first.id), [baking]);
      assert.deepEqual(await filesOf(second.id), []);
      await client.vectorStores.files.createAndPoll(vs.id, { file_id: sailing });
      assert.deepEqual(await filesOf(second.id), []);
      assert.deepEqual(
        (await client.vectorStores.fileBatches.retrieve(first.id, { vector_store_id: vs.id })).file_counts,
        counts(1),
      );
      await client.vectorStores.delete(vs.id);
    });

    it("removes a file from a store (its chunks, not the file), and a deleted file from every store", async () => {
      const vs = ids.store as string;
      const other = await client.vectorStores.create({ name: "other", file_ids: [ids["baking.md"] as string] });
      await tandem.server.vectorStores.idle();
      assert.deepEqual(await client.vectorStores.files.delete(ids["astronomy.txt"] as string, { vector_store_id: vs }), {
        id: ids["astronomy.txt"],
        object: "vector_store.file.deleted",
        deleted: true,
      });
      assert.deepEqual((await client.vectorStores.search(vs, { query: "moons" })).data, []);
      assert.equal((await client.files.retrieve(ids["astronomy.txt"] as string)).id, ids["astronomy.txt"], "the file stays");

      await client.files.delete(ids["baking.md"] as string);
      for (const id of [vs, other.id]) {
        assert.deepEqual((await client.vectorStores.search(id, { query: "sourdough starter" })).data, []);
        await assert.rejects(
          client.vectorStores.files.retrieve(ids["baking.md"] as string, { vector_store_id: id }),
          OpenAI.NotFoundError,
        );
      }
      assert.equal((await client.vectorStores.retrieve(other.id)).file_counts.total, 0);
    });
  });
}

describe("vector stores across restarts (encrypted store)", () => {
  it("keeps stores and chunks, and resumes a file a crash left in_progress", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-vs-store-"));
    const key = randomBytes(32);
    let tandem = await startTandem({}, { store: { key }, dataDir });
    let client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const sailing = await upload(client, "sailing.md", DOCS["sailing.md"] as string);
    const baking = await upload(client, "baking.md", DOCS["baking.md"] as string);
    const vs = await client.vectorStores.create({ name: "kept", file_ids: [sailing.id] });
    await tandem.server.vectorStores.idle();
    await tandem.close();

    // A crash after the file was added and before its ingestion ended: its record is in_progress, with no chunk.
    const direct = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
    const pending = direct.vectorStores.addFile(
      vs.id,
      { fileId: baking.id, filename: "baking.md", chunking: { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 } },
      1,
    );
    assert.equal(pending?.status, "in_progress");
    assert.deepEqual(direct.vectorStores.search({ vectorStoreIds: [vs.id], text: "sourdough", limit: 10, minScore: 0 }, 1), []);
    direct.close();

    tandem = await startTandem({}, { store: { key }, dataDir });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      await tandem.server.vectorStores.idle();
      const resumed = await client.vectorStores.files.retrieve(baking.id, { vector_store_id: vs.id });
      assert.equal(resumed.status, "completed");
      assert.equal((await client.vectorStores.search(vs.id, { query: "sourdough" })).data[0]?.filename, "baking.md");
      assert.equal((await client.vectorStores.search(vs.id, { query: "sailboat" })).data[0]?.filename, "sailing.md");
      assert.equal((await client.vectorStores.retrieve(vs.id)).file_counts.completed, 2);
    } finally {
      await tandem.close();
    }
  });
});

describe("a file still being ingested", () => {
  it("is answered with openai-poll-after-ms, which the SDKs' pollers wait instead of their default (5 s in openai-node)", async () => {
    const { files, open } = gatedFileStore(new MemoryFileStore());
    const tandem = await startTandem({}, { files });
    try {
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const comets = await upload(client, "comets.txt", "Comets have tails of ice and dust.");
      const tides = await upload(client, "tides.txt", "The moon pulls the tides.");
      const vs = await client.vectorStores.create({ name: "slow" });
      await client.vectorStores.files.create(vs.id, { file_id: comets.id });
      const batch = await client.vectorStores.fileBatches.create(vs.id, { file_ids: [tides.id] });
      for (const path of [`files/${comets.id}`, `file_batches/${batch.id}`]) {
        const res = await fetch(`${tandem.url}/v1/vector_stores/${vs.id}/${path}`);
        assert.equal(((await res.json()) as { status: string }).status, "in_progress", path);
        assert.equal(res.headers.get("openai-poll-after-ms"), "200", path);
      }
      // The SDK's poller: it has read in_progress (and the header) before the gate opens.
      const polled = client.vectorStores.files.poll(vs.id, comets.id);
      await new Promise((resolve) => setTimeout(resolve, 50));
      open();
      assert.equal((await polled).status, "completed");
      assert.equal((await client.vectorStores.fileBatches.poll(vs.id, batch.id)).status, "completed");
      const done = await fetch(`${tandem.url}/v1/vector_stores/${vs.id}/files/${comets.id}`);
      assert.equal(done.headers.get("openai-poll-after-ms"), null, "nothing to wait for once it ended");
    } finally {
      await tandem.close();
    }
  });
});
