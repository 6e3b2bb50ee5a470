/**
 * Every list of stored state pages the same way, through the official openai SDK against the real
 * server, with the encrypted store and in memory: auto-pagination (`for await`) walks each list to
 * its end exactly once, also when an item on a later page is deleted between pages; a cursor
 * (`after`, and `before` where a list takes it) that names no object of the list (deleted since, or
 * never one) is a 404 naming it, never a silent start from the top (which shows a page twice and,
 * with deletes going on, may loop); `has_more` is false on a last page of exactly `limit`;
 * `first_id`/`last_id` are null on an empty page; a bad `limit` is a 400 naming it. Batches (which
 * cannot be deleted one by one) are among them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI, { toFile } from "openai";
import { CursorPage } from "openai/pagination";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "openai/gpt-4o-mini";
const KEY = "list-cursors-client-key";
const COUNT = 5;

type Json = Record<string, unknown>;

let upstream: FakeOpenAIUpstream;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  upstream.script(() => ({ kind: "text", text: "ok", usage: { input: 5, output: 3 } }));
});
after(() => upstream?.close());

/** One list under test: how to fill it, page it through the SDK, and (where the API can) delete from it. */
interface ListCase {
  name: string;
  /** The list's path, for the raw checks (unknown cursor, bounds, empty page). */
  path: () => string;
  /** The ids of what it lists, in the list's default order. */
  ids: () => string[];
  /** A page through the SDK (a PagePromise: awaitable, and iterable with `for await`). */
  page: (query: { limit: number; after?: string }) => AsyncIterable<{ id: string }> & PromiseLike<SdkPage>;
  /** Deletes one of its objects (absent: the list's objects cannot be deleted one by one). */
  remove?: (id: string) => Promise<void>;
  /** Whether it takes `before` too. */
  before?: boolean;
  /** Its largest `limit` (OpenAI's files list: 10000). */
  maxLimit?: number;
  /** A path to a list of it that is empty. */
  emptyPath?: () => string;
}

/** The list's path, ready for one more query parameter. */
function queryOf(list: ListCase): string {
  const path = list.path();
  return `${path}${path.includes("?") ? "&" : "?"}`;
}

interface SdkPage {
  data: { id: string }[];
  hasNextPage(): boolean;
  getNextPage(): Promise<SdkPage>;
}

for (const storeKind of ["encrypted store", "memory"] as const) {
  describe(`every list's cursors (${storeKind})`, () => {
    let tandem: RunningTandem;
    let client: OpenAI;
    const made = {
      conversations: [] as string[],
      items: [] as string[],
      conversation: "",
      emptyConversation: "",
      responses: [] as string[],
      withInputs: "",
      inputItems: [] as string[],
      completions: [] as string[],
      messages: [] as string[],
      files: [] as string[],
      vectorStores: [] as string[],
      vectorStore: "",
      vectorStoreFiles: [] as string[],
      batch: "",
      batches: [] as string[],
      memories: [] as string[],
    };

    async function raw(path: string): Promise<{ status: number; body: Json }> {
      const res = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
      return { status: res.status, body: (await res.json()) as Json };
    }

    before(async () => {
      tandem = await startTandem(
        { providers: { openai: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } },
        { clientKeys: [KEY], ...(storeKind === "encrypted store" && { store: true }) },
      );
      client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: KEY, maxRetries: 0 });

      // A few ms apart: the conversations list orders by last change.
      for (let i = 0; i < COUNT; i++) {
        const conversation = await client.conversations.create({ items: [{ type: "message", role: "user", content: `c${i}` }] });
        made.conversations.push(conversation.id);
        await sleep(3);
      }
      const conversation = await client.conversations.create({});
      made.conversation = conversation.id;
      for (let i = 0; i < COUNT; i++) {
        const added = await client.conversations.items.create(conversation.id, {
          items: [{ type: "message", role: "user", content: `item ${i}` }],
        });
        made.items.push(String(added.data[0]?.id));
      }
      made.conversations.push(conversation.id);
      await sleep(3);
      const empty = await client.conversations.create({});
      made.emptyConversation = empty.id;
      made.conversations.push(empty.id);

      for (let i = 0; i < COUNT; i++) made.responses.push((await client.responses.create({ model: MODEL, input: `q${i}` })).id);
      // The newest: the responses list's tests delete the second newest and the oldest, never this one.
      const withInputs = await client.responses.create({
        model: MODEL,
        input: Array.from({ length: COUNT }, (_, j) => ({ type: "message" as const, role: "user" as const, content: `q.${j}` })),
      });
      made.responses.push(withInputs.id);
      made.withInputs = withInputs.id;
      const inputs = await client.responses.inputItems.list(withInputs.id, { limit: 100, order: "asc" });
      made.inputItems = inputs.data.map((item) => String(item.id));

      for (let i = 0; i < COUNT; i++) {
        const completion = await client.chat.completions.create({
          model: MODEL,
          store: true,
          messages: Array.from({ length: COUNT }, (_, j) => ({ role: "user" as const, content: `m${i}.${j}` })),
        });
        made.completions.push(completion.id);
      }
      const messages = await client.chat.completions.messages.list(made.completions[0] as string, { limit: 100 });
      made.messages = messages.data.map((m) => m.id);

      for (let i = 0; i < COUNT; i++) {
        const file = await client.files.create({
          file: await toFile(Buffer.from(`file ${i}`), `f${i}.txt`),
          purpose: "user_data",
        });
        made.files.push(file.id);
      }
      // The vector store's files are others (`assistants`), out of the files list's `purpose=user_data`.
      for (let i = 0; i < COUNT; i++) {
        const file = await client.files.create({
          file: await toFile(Buffer.from(`vector store file ${i}`), `v${i}.txt`),
          purpose: "assistants",
        });
        made.vectorStoreFiles.push(file.id);
      }

      for (let i = 0; i < COUNT; i++) made.vectorStores.push((await client.vectorStores.create({ name: `vs${i}` })).id);
      const vectorStore = await client.vectorStores.create({ name: "with files" });
      made.vectorStore = vectorStore.id;
      made.vectorStores.push(vectorStore.id);
      const batch = await client.vectorStores.fileBatches.createAndPoll(vectorStore.id, { file_ids: made.vectorStoreFiles });
      made.batch = batch.id;

      // Batches (their input files are `batch`, out of the files list's `purpose=user_data`).
      for (let i = 0; i < COUNT; i++) {
        const line = {
          custom_id: `b${i}`,
          method: "POST",
          url: "/v1/chat/completions",
          body: { model: MODEL, messages: [{ role: "user", content: `b${i}` }] },
        };
        const input = await client.files.create({
          file: await toFile(Buffer.from(JSON.stringify(line)), `b${i}.jsonl`),
          purpose: "batch",
        });
        const batch = await client.batches.create({
          input_file_id: input.id,
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
        });
        made.batches.push(batch.id);
      }

      for (let i = 0; i < COUNT; i++) {
        const res = await fetch(`${tandem.url}/v1/memories`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ text: `The user likes tea number ${i}` }),
        });
        assert.equal(res.status, 200);
        made.memories.push(((await res.json()) as { id: string }).id);
      }
    });
    after(() => tandem?.close());

    const desc = (ids: string[]) => [...ids].reverse();
    // In an order where no case deletes what a later one lists from.
    const cases: ListCase[] = [
      {
        name: "GET /v1/conversations/{id}/items",
        path: () => `/v1/conversations/${made.conversation}/items`,
        ids: () => desc(made.items),
        page: (query) => client.conversations.items.list(made.conversation, query) as never,
        remove: async (id) => {
          await client.conversations.items.delete(id, { conversation_id: made.conversation });
          // A delete is a change: the conversation is now the newest in the conversations list.
          made.conversations.push(...made.conversations.splice(made.conversations.indexOf(made.conversation), 1));
        },
        emptyPath: () => `/v1/conversations/${made.emptyConversation}/items`,
      },
      {
        name: "GET /v1/conversations",
        path: () => "/v1/conversations",
        ids: () => desc(made.conversations),
        page: (query) => client.getAPIList("/conversations", CursorPage<{ id: string }>, { query }),
        remove: async (id) => void (await client.conversations.delete(id)),
      },
      {
        name: "GET /v1/responses/{id}/input_items",
        path: () => `/v1/responses/${made.withInputs}/input_items`,
        ids: () => desc(made.inputItems),
        page: (query) => client.responses.inputItems.list(made.withInputs, query) as never,
        before: true,
      },
      {
        name: "GET /v1/responses",
        path: () => "/v1/responses",
        ids: () => desc(made.responses),
        page: (query) => client.getAPIList("/responses", CursorPage<{ id: string }>, { query }),
        remove: async (id) => void (await client.responses.delete(id)),
      },
      {
        name: "GET /v1/chat/completions",
        path: () => "/v1/chat/completions",
        ids: () => [...made.completions],
        page: (query) => client.chat.completions.list(query) as never,
        remove: async (id) => void (await client.chat.completions.delete(id)),
      },
      {
        name: "GET /v1/chat/completions/{id}/messages",
        path: () => `/v1/chat/completions/${made.completions[0]}/messages`,
        ids: () => [...made.messages],
        page: (query) => client.chat.completions.messages.list(made.completions[0] as string, query) as never,
      },
      {
        name: "GET /v1/files",
        path: () => "/v1/files?purpose=user_data",
        ids: () => desc(made.files),
        page: (query) => client.files.list({ purpose: "user_data", ...query }) as never,
        remove: async (id) => void (await client.files.delete(id)),
        maxLimit: 10_000,
        emptyPath: () => "/v1/files?purpose=fine-tune",
      },
      {
        name: "GET /v1/vector_stores/{id}/file_batches/{id}/files",
        path: () => `/v1/vector_stores/${made.vectorStore}/file_batches/${made.batch}/files`,
        ids: () => desc(made.vectorStoreFiles),
        page: (query) =>
          client.vectorStores.fileBatches.listFiles(made.batch, { vector_store_id: made.vectorStore, ...query }) as never,
        before: true,
      },
      {
        name: "GET /v1/vector_stores/{id}/files",
        path: () => `/v1/vector_stores/${made.vectorStore}/files`,
        ids: () => desc(made.vectorStoreFiles),
        page: (query) => client.vectorStores.files.list(made.vectorStore, query) as never,
        remove: async (id) => void (await client.vectorStores.files.delete(id, { vector_store_id: made.vectorStore })),
        before: true,
        emptyPath: () => `/v1/vector_stores/${made.vectorStores[0]}/files`,
      },
      {
        name: "GET /v1/vector_stores",
        path: () => "/v1/vector_stores",
        ids: () => desc(made.vectorStores),
        page: (query) => client.vectorStores.list(query) as never,
        remove: async (id) => void (await client.vectorStores.delete(id)),
        before: true,
      },
      {
        name: "GET /v1/batches",
        path: () => "/v1/batches",
        ids: () => desc(made.batches),
        page: (query) => client.batches.list(query) as never,
      },
      {
        name: "GET /v1/memories",
        path: () => "/v1/memories",
        ids: () => desc(made.memories),
        page: (query) => client.getAPIList("/memories", CursorPage<{ id: string }>, { query }),
        remove: async (id) => void (await client.delete(`/memories/${id}`)),
      },
    ];

    for (const list of cases) {
      describe(list.name, () => {
        it("auto-pagination walks it to its end exactly once, a page of 2 at a time", async () => {
          const seen: string[] = [];
          for await (const item of list.page({ limit: 2 })) seen.push(item.id);
          assert.deepEqual(seen, list.ids());
        });

        it("a last page of exactly `limit` has has_more false; a page past the end is empty with null ids", async () => {
          const ids = list.ids();
          const last = await raw(`${queryOf(list)}limit=2&after=${ids.at(-3)}`);
          assert.equal(last.status, 200, JSON.stringify(last.body));
          assert.deepEqual(
            (last.body.data as Json[]).map((x) => x.id),
            ids.slice(-2),
          );
          assert.equal(last.body.has_more, false);
          const past = await raw(`${queryOf(list)}limit=2&after=${ids.at(-1)}`);
          assert.equal(past.status, 200, JSON.stringify(past.body));
          assert.deepEqual(past.body, { object: "list", data: [], first_id: null, last_id: null, has_more: false });
          const whole = await raw(`${queryOf(list)}limit=${ids.length}`);
          assert.equal(whole.body.has_more, false, "all of it in one page of exactly its size");
          if (list.emptyPath !== undefined) {
            const empty = await raw(list.emptyPath());
            assert.deepEqual(empty.body, { object: "list", data: [], first_id: null, last_id: null, has_more: false });
          }
        });

        it("an `after` that names nothing in it is a 404 naming `after`, not the first page again", async () => {
          // Never one, and one like its own ids (its first's with the last character changed).
          const first = list.ids()[0] as string;
          for (const cursor of ["nothing_here", `${first.slice(0, -1)}${first.endsWith("Z") ? "Y" : "Z"}`]) {
            const got = await raw(`${queryOf(list)}limit=2&after=${cursor}`);
            assert.equal(got.status, 404, `after=${cursor}: ${JSON.stringify(got.body).slice(0, 300)}`);
            const error = got.body.error as Json;
            assert.equal(error.type, "invalid_request_error");
            assert.equal(error.param, "after");
            assert.equal(typeof error.message, "string");
          }
          if (list.before) {
            const got = await raw(`${queryOf(list)}limit=2&before=nothing_here`);
            assert.equal(got.status, 404, JSON.stringify(got.body));
            assert.equal((got.body.error as Json).param, "before");
          }
        });

        if (list.name === "GET /v1/responses/{id}/input_items") {
          it("`before` (the older SDKs' cursor) is the previous page: the `limit` items just before it", async () => {
            const ids = list.ids();
            const back = await raw(`${queryOf(list)}limit=2&before=${ids[4]}`);
            assert.equal(back.status, 200, JSON.stringify(back.body));
            assert.deepEqual(
              (back.body.data as Json[]).map((x) => x.id),
              ids.slice(2, 4),
            );
            assert.equal(back.body.has_more, true);
            const first = await raw(`${queryOf(list)}limit=5&before=${ids[2]}&order=desc`);
            assert.deepEqual(
              (first.body.data as Json[]).map((x) => x.id),
              ids.slice(0, 2),
            );
            assert.equal(first.body.has_more, false);
            const between = await raw(`${queryOf(list)}limit=10&after=${ids[0]}&before=${ids[3]}`);
            assert.deepEqual(
              (between.body.data as Json[]).map((x) => x.id),
              ids.slice(1, 3),
            );
          });
        }

        it("a bad limit is a 400 naming `limit`", async () => {
          for (const limit of ["0", String((list.maxLimit ?? 100) + 1), "1.5", "x", "-1"]) {
            const got = await raw(`${queryOf(list)}limit=${limit}`);
            assert.equal(got.status, 400, `limit=${limit}: ${JSON.stringify(got.body)}`);
            assert.equal((got.body.error as Json).param, "limit");
          }
        });

        if (list.remove !== undefined) {
          const remove = list.remove;
          it("with an item on a later page deleted between pages, the walk still sees the rest exactly once", async () => {
            const before = list.ids();
            const doomed = before.at(-1) as string;
            const seen: string[] = [];
            for await (const item of list.page({ limit: 2 })) {
              if (seen.length === 0) await remove(doomed);
              seen.push(item.id);
            }
            forget(doomed);
            assert.deepEqual(seen, before.slice(0, -1));
          });

          it("with the cursor itself deleted between pages, the next page is a 404 naming `after`", async () => {
            const first = await list.page({ limit: 2 });
            const cursor = first.data.at(-1)?.id as string;
            assert.equal(first.hasNextPage(), true);
            await remove(cursor);
            forget(cursor);
            await assert.rejects(first.getNextPage(), (err: unknown) => {
              assert.ok(err instanceof OpenAI.NotFoundError, String(err));
              assert.equal(err.param, "after");
              return true;
            });
          });
        }
      });
    }

    /** Takes a deleted id out of every list that held it. */
    function forget(id: string): void {
      for (const ids of Object.values(made)) {
        if (!Array.isArray(ids)) continue;
        const at = ids.indexOf(id);
        if (at >= 0) ids.splice(at, 1);
      }
    }
  });
}
