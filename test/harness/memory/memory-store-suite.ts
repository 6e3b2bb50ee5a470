/**
 * The MemoryStore contract (src/core/memory.ts) as one suite every implementation runs: the
 * in-process one and the encrypted store's. What one passes, the other must too, so the API,
 * recall and the tools behave the same over both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MemoryStore, NewMemory } from "../../../src/core/memory.js";

export interface MemoryStoreFixture {
  store: MemoryStore;
  close(): Promise<void>;
}

export function memory(text: string, extra: Partial<NewMemory> = {}): NewMemory {
  return { text, sensitivity: "public", ...extra };
}

export function memoryStoreSuite(name: string, open: () => Promise<MemoryStoreFixture>): void {
  describe(`${name} (MemoryStore contract)`, () => {
    let fixture: MemoryStoreFixture;
    let store: MemoryStore;
    before(async () => {
      fixture = await open();
      store = fixture.store;
    });
    after(() => fixture.close());

    it("adds a memory with a mem_ id, times and metadata, and gets it back", async () => {
      const added = await store.add(memory("The user's dog is called Biscuit", { metadata: { source: "test" } }));
      assert.match(added.id, /^mem_[a-z0-9]{16}$/);
      assert.equal(added.text, "The user's dog is called Biscuit");
      assert.equal(added.sensitivity, "public");
      assert.deepEqual(added.metadata, { source: "test" });
      assert.ok(Math.abs(added.created_at - Date.now() / 1000) < 5);
      assert.equal(added.updated_at, added.created_at);
      assert.deepEqual(await store.get(added.id), added);
      const bare = await store.add(memory("no metadata here", { sensitivity: "private" }));
      assert.equal("metadata" in bare, false);
      assert.equal((await store.get(bare.id))?.sensitivity, "private");
    });

    it("answers undefined or false for an unknown id, never throws", async () => {
      assert.equal(await store.get("mem_nope"), undefined);
      assert.equal(await store.update("mem_nope", { metadata: {} }), undefined);
      assert.equal(await store.delete("mem_nope"), false);
    });

    it("lists pages in both orders with after and hasMore", async () => {
      const { store: own, close } = await open();
      try {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await own.add(memory(`memory number ${i}`))).id);
        const first = await own.list({ limit: 2, order: "asc" });
        assert.deepEqual(
          first.data.map((m) => m.id),
          ids.slice(0, 2),
        );
        assert.equal(first.hasMore, true);
        const second = await own.list({ limit: 2, order: "asc", after: ids[1] });
        assert.deepEqual(
          second.data.map((m) => m.id),
          ids.slice(2, 4),
        );
        const last = await own.list({ limit: 2, order: "asc", after: ids[3] });
        assert.deepEqual(
          last.data.map((m) => m.id),
          [ids[4]],
        );
        assert.equal(last.hasMore, false);
        const newest = await own.list({ limit: 3, order: "desc" });
        assert.deepEqual(
          newest.data.map((m) => m.id),
          [ids[4], ids[3], ids[2]],
        );
        const older = await own.list({ limit: 3, order: "desc", after: ids[2] });
        assert.deepEqual(
          older.data.map((m) => m.id),
          [ids[1], ids[0]],
        );
        assert.equal(older.hasMore, false);
      } finally {
        await close();
      }
    });

    it("answers an `after` that names no memory (never one, or deleted since) as unknownCursor, not the first page", async () => {
      const { store: own, close } = await open();
      try {
        const gone = await own.add(memory("a memory soon deleted"));
        await own.add(memory("a memory kept"));
        await own.delete(gone.id);
        for (const order of ["asc", "desc"] as const) {
          for (const after of ["mem_nowhere", gone.id]) {
            assert.deepEqual(
              await own.list({ after, limit: 10, order }),
              { data: [], hasMore: false, unknownCursor: "after" },
              `${order} ${after}`,
            );
          }
        }
      } finally {
        await close();
      }
    });

    it("ranks word matches by bm25: the rarer word and the denser match first, unrelated memories not at all", async () => {
      const { store: own, close } = await open();
      try {
        const coffee = await own.add(memory("The user drinks coffee black, no sugar"));
        const tea = await own.add(memory("The user prefers green tea in the afternoon"));
        const both = await own.add(memory("Coffee coffee coffee: the user runs on coffee"));
        await own.add(memory("The user lives in Lisbon"));
        await own.add(memory("The user is learning Portuguese"));
        const hits = await own.search({ text: "How do I take my coffee?", limit: 10, minScore: 0 });
        assert.deepEqual(
          hits.map((h) => h.memory.id),
          [both.id, coffee.id],
        );
        assert.ok((hits[0]?.score ?? 0) > (hits[1]?.score ?? 0));
        for (const hit of hits) assert.ok(hit.score > 0 && hit.score < 1);
        // Words every sentence has match nothing.
        assert.deepEqual(await own.search({ text: "what is the", limit: 10, minScore: 0 }), []);
        // Accents and case do not matter; OR across words.
        const accents = await own.search({ text: "GREEN THÉ tea", limit: 10, minScore: 0 });
        assert.equal(accents[0]?.memory.id, tea.id);
        // limit and minScore.
        assert.equal((await own.search({ text: "coffee", limit: 1, minScore: 0 })).length, 1);
        assert.deepEqual(await own.search({ text: "coffee", limit: 10, minScore: 0.99 }), []);
        // A word's stem finds the words it begins: "sailing" finds "sails"; a number only itself.
        const sails = await own.add(memory("The user sails on weekends, 12 knots"));
        assert.equal((await own.search({ text: "going sailing?", limit: 10, minScore: 0 }))[0]?.memory.id, sails.id);
        assert.deepEqual(await own.search({ text: "1", limit: 10, minScore: 0 }), []);
        // Text that is FTS5 syntax is only words.
        assert.deepEqual(await own.search({ text: '"NEAR( OR AND * ^ -', limit: 10, minScore: 0 }), []);
      } finally {
        await close();
      }
    });

    it("finds a word of any script as the text holds it: Korean, Cyrillic й, voiced kana, Devanagari, Greek", async () => {
      const { store: own, close } = await open();
      try {
        const texts = [
          "사용자는 김치를 좋아합니다",
          "Пользователь любит йогурт",
          "ユーザーは寿司が大好きです",
          "उपयोगकर्ता को क्रिकेट पसंद है",
          "Ο χρήστης αγαπά τον λόγος",
          "Der Nutzer fährt gern nach München",
        ];
        const ids = [];
        for (const text of texts) ids.push((await own.add(memory(text))).id);
        const found = async (text: string) => (await own.search({ text, limit: 10, minScore: 0 })).map((h) => h.memory.id);
        // Each whole text, and a word of it, finds that memory and only it.
        for (const [i, text] of texts.entries()) assert.deepEqual(await found(text), [ids[i]], text);
        for (const [i, word] of ["김치를", "йогурт", "ユーザーは寿司が大好きです", "क्रिकेट", "ΛΌΓΟΣ", "munchen"].entries()) {
          assert.deepEqual(await found(word), [ids[i]], word);
        }
        // A different letter is a different word: и is not й, サ is not ザ, か is not が.
        assert.deepEqual(await found("иогурт"), []);
        assert.deepEqual(await found("サー"), []);
        assert.deepEqual(await found("司か"), []);
      } finally {
        await close();
      }
    });

    it("finds a Chinese or Japanese word inside a run of text written without spaces, and ranks the closer match first", async () => {
      const { store: own, close } = await open();
      try {
        const sushi = (await own.add(memory("ユーザーは寿司が大好きです"))).id;
        const duck = (await own.add(memory("用户喜欢吃北京烤鸭和饺子"))).id;
        const tokyo = (await own.add(memory("ユーザーは東京都に住んでいる"))).id;
        const kyoto = (await own.add(memory("週末は京都へ行く"))).id;
        const found = async (text: string) => (await own.search({ text, limit: 10, minScore: 0 })).map((h) => h.memory.id);
        assert.deepEqual(await found("寿司"), [sushi]);
        assert.deepEqual(await found("烤鸭"), [duck]);
        assert.deepEqual(await found("饺子"), [duck]);
        // A question about the memory, in a sentence of its own: its words are found in it (好き
        // also finds 大好き, further down).
        assert.deepEqual(await found("北京烤鸭は好き？"), [duck, sushi]);
        // 東京都 holds 京都 too: both memories are found, the one holding the whole word first.
        assert.deepEqual(await found("東京都"), [tokyo, kyoto]);
        assert.deepEqual((await found("京都")).sort(), [tokyo, kyoto].sort());
        // A lone character is a word of its own.
        assert.deepEqual(await found("烤"), [duck]);
        assert.deepEqual(await found("週"), [kyoto]);
        // After an update the old words are gone and the new ones found.
        await own.update(duck, { text: { text: "用户喜欢拉面", sensitivity: "public" } });
        assert.deepEqual(await found("烤鸭"), []);
        assert.deepEqual(await found("拉面"), [duck]);
        await own.delete(sushi);
        assert.deepEqual(await found("寿司"), []);
      } finally {
        await close();
      }
    });

    it("ranks by meaning when vectors of the query's model are stored, beside the words", async () => {
      const { store: own, close } = await open();
      try {
        const vegetarian = await own.add(memory("The user is vegetarian", { embedding: { model: "e/m", vector: [1, 0, 0] } }));
        const tonight = await own.add(
          memory("Tonight the user watches a film", { embedding: { model: "e/m", vector: [0, 1, 0] } }),
        );
        const other = await own.add(memory("Dinner is at eight", { embedding: { model: "other/m", vector: [1, 0, 0] } }));
        const hits = await own.search({
          text: "what should I cook tonight",
          embedding: { model: "e/m", vector: [0.9, 0.1, 0] },
          limit: 10,
          minScore: 0.05,
        });
        // Meaning beats the shared word "tonight"; a vector of another model is not compared.
        assert.deepEqual(
          hits.map((h) => h.memory.id),
          [vegetarian.id, tonight.id],
        );
        assert.equal(
          hits.some((h) => h.memory.id === other.id),
          false,
        );
      } finally {
        await close();
      }
    });

    it("updates text (and what search finds), metadata and updated_at", async () => {
      const added = await store.add(memory("The user plays the cello", { metadata: { a: "1" } }));
      const changed = await store.update(added.id, {
        text: { text: "The user plays the violin", sensitivity: "internal" },
        metadata: { b: "2" },
      });
      assert.equal(changed?.text, "The user plays the violin");
      assert.equal(changed?.sensitivity, "internal");
      assert.deepEqual(changed?.metadata, { b: "2" });
      assert.equal(changed?.created_at, added.created_at);
      assert.ok((changed?.updated_at ?? 0) >= added.updated_at);
      assert.deepEqual(await store.get(added.id), changed);
      assert.deepEqual(await store.search({ text: "cello", limit: 5, minScore: 0 }), []);
      assert.equal((await store.search({ text: "violin", limit: 5, minScore: 0 }))[0]?.memory.id, added.id);
      const cleared = await store.update(added.id, { metadata: {} });
      assert.equal(cleared && "metadata" in cleared, false);
    });

    it("deletes a memory: gone from get, list and search, by words and by vector", async () => {
      const added = await store.add(
        memory("The user's locker code is in the blue notebook", { embedding: { model: "e/m", vector: [0, 0, 1] } }),
      );
      assert.equal(await store.delete(added.id), true);
      assert.equal(await store.get(added.id), undefined);
      assert.equal(await store.delete(added.id), false);
      assert.deepEqual(await store.search({ text: "locker notebook", limit: 5, minScore: 0 }), []);
      const byVector = await store.search({ text: "", embedding: { model: "e/m", vector: [0, 0, 1] }, limit: 5, minScore: 0 });
      assert.equal(
        byVector.some((h) => h.memory.id === added.id),
        false,
      );
      const all = await store.list({ limit: 100, order: "asc" });
      assert.equal(
        all.data.some((m) => m.id === added.id),
        false,
      );
    });

    it("returns copies: changing what was read changes nothing stored", async () => {
      const added = await store.add(memory("copy check", { metadata: { k: "v" } }));
      const read = await store.get(added.id);
      if (read?.metadata) read.metadata.k = "changed";
      assert.equal((await store.get(added.id))?.metadata?.k, "v");
    });
  });
}
