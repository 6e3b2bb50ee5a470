/**
 * tandem's memory API (`/v1/memories`) through fetch against the real server: create, get, list
 * pages, search, update, delete, and bad input answered in OpenAI's error shape (never a 500), over
 * the encrypted store and with the store off.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningTandem, startTandem } from "../support/tandem.js";

interface MemoryJson {
  id: string;
  object: string;
  text: string;
  created_at: number;
  updated_at: number;
  sensitivity: string;
  metadata: Record<string, string>;
  score?: number;
}

interface ListJson {
  object: string;
  data: MemoryJson[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function call<T>(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body !== undefined && {
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

for (const withStore of [true, false]) {
  describe(`/v1/memories (${withStore ? "encrypted store" : "store off"})`, () => {
    let tandem: RunningTandem;
    const api = <T>(method: string, path: string, body?: unknown) => call<T>(tandem.url, method, path, body);

    before(async () => {
      tandem = await startTandem({ store: { enabled: withStore } }, { store: withStore });
    });
    after(() => tandem.close());

    it("creates, gets, updates and deletes a memory", async () => {
      const created = await api<MemoryJson>("POST", "/v1/memories", {
        text: "  The user's cat is called Miso  ",
        metadata: { source: "api" },
      });
      assert.equal(created.status, 200);
      assert.match(created.body.id, /^mem_/);
      assert.equal(created.body.object, "memory");
      assert.equal(created.body.text, "The user's cat is called Miso");
      assert.equal(created.body.sensitivity, "public");
      assert.deepEqual(created.body.metadata, { source: "api" });
      assert.equal(typeof created.body.created_at, "number");

      const got = await api<MemoryJson>("GET", `/v1/memories/${created.body.id}`);
      assert.deepEqual(got.body, created.body);

      const patched = await api<MemoryJson>("PATCH", `/v1/memories/${created.body.id}`, {
        text: "The user's cat is called Tofu",
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.text, "The user's cat is called Tofu");
      assert.deepEqual(patched.body.metadata, { source: "api" }, "metadata kept when not given");
      const relabeled = await api<MemoryJson>("PATCH", `/v1/memories/${created.body.id}`, { metadata: {} });
      assert.deepEqual(relabeled.body.metadata, {});
      assert.equal(relabeled.body.text, "The user's cat is called Tofu");

      const deleted = await api<{ id: string; object: string; deleted: boolean }>("DELETE", `/v1/memories/${created.body.id}`);
      assert.deepEqual(deleted.body, { id: created.body.id, object: "memory.deleted", deleted: true });
      const gone = await api<ErrorJson>("GET", `/v1/memories/${created.body.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.message, `Memory with id '${created.body.id}' not found.`);
      assert.equal(gone.body.error.type, "invalid_request_error");
      assert.equal((await api<ErrorJson>("DELETE", `/v1/memories/${created.body.id}`)).status, 404);
      assert.equal((await api<ErrorJson>("PATCH", `/v1/memories/${created.body.id}`, { text: "x" })).status, 404);
    });

    it("classifies a memory's text, and keeps a declared level unless detection finds a higher one", async () => {
      const email = await api<MemoryJson>("POST", "/v1/memories", { text: "Write to the user at jo.tester@example.com" });
      assert.equal(email.body.sensitivity, "private");
      const declared = await api<MemoryJson>("POST", "/v1/memories", { text: "The user is job hunting", sensitivity: "private" });
      assert.equal(declared.body.sensitivity, "private");
      const lowered = await api<MemoryJson>("POST", "/v1/memories", {
        text: "Call jo.tester@example.com",
        sensitivity: "public",
      });
      assert.equal(lowered.body.sensitivity, "private", "a declaration never lowers what detection found");
      // Editing a private memory's text keeps it private; declaring it public (with nothing detected) lowers it.
      const edited = await api<MemoryJson>("PATCH", `/v1/memories/${declared.body.id}`, { text: "The user is hiring" });
      assert.equal(edited.body.sensitivity, "private");
      const opened = await api<MemoryJson>("PATCH", `/v1/memories/${declared.body.id}`, { sensitivity: "public" });
      assert.equal(opened.body.sensitivity, "public");
      assert.equal(opened.body.text, "The user is hiring");
    });

    it("takes the request's x-tandem-sensitivity as a declared level too, the higher of it and the body's", async () => {
      const post = async (headers: Record<string, string>, body: unknown) => {
        const res = await fetch(`${tandem.url}/v1/memories`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as MemoryJson & ErrorJson };
      };
      const byHeader = await post({ "x-tandem-sensitivity": "private" }, { text: "The user is job hunting" });
      assert.equal(byHeader.status, 200);
      assert.equal(byHeader.body.sensitivity, "private");
      const higher = await post({ "x-tandem-sensitivity": "internal" }, { text: "The user is hiring", sensitivity: "private" });
      assert.equal(higher.body.sensitivity, "private");
      const raised = await post({ "x-tandem-sensitivity": "internal" }, { text: "The user likes tea", sensitivity: "public" });
      assert.equal(raised.body.sensitivity, "internal");
      const bad = await post({ "x-tandem-sensitivity": "secret" }, { text: "The user likes coffee" });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, "x-tandem-sensitivity");
    });

    it("lists pages OpenAI-style (limit, after, order) and searches with query", async () => {
      const own = await startTandem({ store: { enabled: withStore } }, { store: withStore });
      try {
        const ids: string[] = [];
        for (const text of [
          "The user runs marathons",
          "The user likes jazz",
          "The user hates cilantro",
          "Jazz and blues on Fridays",
        ]) {
          ids.push((await call<MemoryJson>(own.url, "POST", "/v1/memories", { text })).body.id);
        }
        const first = await call<ListJson>(own.url, "GET", "/v1/memories?limit=2");
        assert.equal(first.body.object, "list");
        assert.deepEqual(
          first.body.data.map((m) => m.id),
          [ids[3], ids[2]],
          "newest first by default",
        );
        assert.equal(first.body.has_more, true);
        assert.equal(first.body.first_id, ids[3]);
        assert.equal(first.body.last_id, ids[2]);
        const next = await call<ListJson>(own.url, "GET", `/v1/memories?limit=2&after=${first.body.last_id}`);
        assert.deepEqual(
          next.body.data.map((m) => m.id),
          [ids[1], ids[0]],
        );
        assert.equal(next.body.has_more, false);
        const asc = await call<ListJson>(own.url, "GET", "/v1/memories?order=asc&limit=100");
        assert.deepEqual(
          asc.body.data.map((m) => m.id),
          ids,
        );

        const found = await call<ListJson>(own.url, "GET", `/v1/memories?query=${encodeURIComponent("Any jazz tonight?")}`);
        assert.deepEqual(found.body.data.map((m) => m.id).sort(), [ids[1], ids[3]].sort());
        for (const hit of found.body.data) assert.ok((hit.score ?? 0) > 0);
        assert.equal(found.body.has_more, false);
        const none = await call<ListJson>(own.url, "GET", "/v1/memories?query=submarine");
        assert.deepEqual(none.body.data, []);
        assert.equal(none.body.first_id, null);
      } finally {
        await own.close();
      }
    });

    it("answers bad input with a 400 naming the field, in OpenAI's shape", async () => {
      const cases: [string, string, unknown, string | null, string | null][] = [
        ["POST", "/v1/memories", {}, "text", "missing_required_parameter"],
        ["POST", "/v1/memories", { text: 42 }, "text", "invalid_type"],
        ["POST", "/v1/memories", { text: "   " }, "text", "empty_string"],
        ["POST", "/v1/memories", { text: "x".repeat(4001) }, "text", null],
        ["POST", "/v1/memories", { text: "ok", colour: "red" }, "colour", "unknown_parameter"],
        ["POST", "/v1/memories", { text: "ok", metadata: { n: 1 } }, "metadata.n", "invalid_type"],
        ["POST", "/v1/memories", { text: "ok", sensitivity: "secret" }, "sensitivity", "invalid_value"],
        ["POST", "/v1/memories", [1, 2], "body", "invalid_type"],
        ["GET", "/v1/memories?limit=0", undefined, "limit", "integer_below_min_value"],
        ["GET", "/v1/memories?limit=101", undefined, "limit", "integer_above_max_value"],
        ["GET", "/v1/memories?order=up", undefined, "order", "invalid_value"],
        ["GET", "/v1/memories?query=a&query=b", undefined, "query", "invalid_value"],
        ["GET", "/v1/memories?query=a&min_score=2", undefined, "min_score", "invalid_value"],
      ];
      for (const [method, path, body, param, code] of cases) {
        const res = await api<ErrorJson>(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)}`);
        assert.equal(res.body.error.type, "invalid_request_error");
        assert.equal(res.body.error.param, param, path);
        if (code !== null) assert.equal(res.body.error.code, code, path);
      }
      const badJson = await api<ErrorJson>("POST", "/v1/memories", "{not json");
      assert.equal(badJson.status, 400);
      assert.equal(typeof badJson.body.error.message, "string");
    });
  });
}

describe("/v1/memories over the encrypted store", () => {
  it("keeps memories across a server restart with the same store key", async () => {
    const key = Buffer.alloc(32, 7);
    const first = await startTandem({}, { store: { key } });
    const created = (await call<MemoryJson>(first.url, "POST", "/v1/memories", { text: "The user speaks Basque" })).body;
    await first.close();
    // A second server over the same data dir: startTandem makes a fresh dir, so open the first's.
    const { BackgroundStore } = await import("../../src/store/index.js");
    const { EncryptedMemoryStore } = await import("../../src/harness/memory/encrypted-memory-store.js");
    const reopened = await BackgroundStore.openWithKey({ dataDir: first.dataDir, key, pruneIntervalMs: 0 });
    try {
      const memory = await new EncryptedMemoryStore(reopened).get(created.id);
      assert.equal(memory?.text, "The user speaks Basque");
    } finally {
      await reopened.close();
    }
  });
});
