/**
 * Audit before egress: a body reaches a cloud upstream only after its egress-audit row is on disk
 * (in the audit journal, committed with the next batch), and a body whose row cannot be written is not sent at all, with
 * a clear error that does not count against the target.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import Sqlite from "better-sqlite3-multiple-ciphers";
import OpenAI from "openai";
import { AUDIT_JOURNAL_DIR, readJournal } from "../../src/store/audit-journal.js";
import { StoreError } from "../../src/store/index.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { startTandem } from "../support/tandem.js";

/** The digests in the audit journal's files right now (rows on disk, not yet committed to the database). */
function journaled(dataDir: string, key: Buffer): Set<string> {
  const dir = join(dataDir, AUDIT_JOURNAL_DIR);
  const files = existsSync(dir) ? readdirSync(dir) : [];
  return new Set(
    files.flatMap((name) => {
      try {
        return readJournal(join(dir, name), key).rows.map((values) => values[5]);
      } catch {
        return []; // committed and removed since the listing: its rows are in the database
      }
    }),
  );
}

/** A second connection to the store's file, as another process would read it: it sees committed rows only. */
function reader(file: string, key: Buffer): Sqlite.Database {
  const db = new Sqlite(file, { readonly: true });
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${key.toString("hex")}'"`);
  return db;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("audit before egress", () => {
  let cloud: FakeUpstream;
  let near: FakeUpstream;

  before(async () => {
    cloud = await startFakeOpenAI({ models: ["m"] });
    near = await startFakeOpenAI({ models: ["m"] });
  });

  after(async () => {
    await cloud?.close();
    await near?.close();
  });

  it("has each body's row on disk (journaled or committed) before the upstream receives the body, for concurrent requests", async () => {
    const key = randomBytes(32);
    const tandem = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: cloud.url, local: false, models: ["m"] } } },
      { store: { key } },
    );
    const db = reader(tandem.server.store?.file as string, key);
    const missing: string[] = [];
    let seen = 0;
    const committed = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM egress_audit WHERE sha256 = ?");
    const dataDir = dirname(tandem.server.store?.file as string);
    // Runs as the upstream receives each body: its row must already be on disk, readable by another
    // process: committed, or in the audit journal (which the next open commits after a crash).
    cloud.script((request) => {
      seen++;
      const digest = sha256(JSON.stringify(request.body));
      // The journal first: a row committed meanwhile has left it, and is then in the database.
      if (!journaled(dataDir, key).has(digest) && (committed.get(digest)?.n ?? 0) !== 1) missing.push(digest);
      return { kind: "text", text: "ok" };
    });
    try {
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          client.chat.completions.create({ model: "cloud/m", messages: [{ role: "user", content: `request ${i}` }] }),
        ),
      );
      assert.equal(seen, 40);
      assert.deepEqual(missing, [], "every body's row was on disk before the body arrived");
      const rows = await tandem.server.store?.queryAudit({ limit: 1000 });
      assert.equal(rows?.length, 40);
      assert.ok(rows?.every((r) => r.sent));
    } finally {
      db.close();
      await tandem.close();
    }
  });

  it("sends nothing when the row cannot be written: a clear 503, the breaker untouched, a local tier still answers", async () => {
    const tandem = await startTandem(
      {
        breaker: { failureThreshold: 2, cooldownMs: 60_000 },
        providers: {
          cloud: { kind: "openai", baseUrl: cloud.url, local: false, models: ["m"] },
          near: { kind: "openai", baseUrl: near.url, models: ["m"] },
        },
        routes: { both: { tiers: ["cloud/m", "near/m"] } },
      },
      { store: true },
    );
    cloud.script(() => ({ kind: "text", text: "from the cloud" }));
    near.script(() => ({ kind: "text", text: "from nearby" }));
    const before = cloud.requests.length;
    try {
      // The store stops writing (as it would on a failed disk): every audit commit now fails.
      await tandem.server.store?.close();
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      for (let i = 0; i < 4; i++) {
        const err = await client.chat.completions
          .create({ model: "cloud/m", messages: [{ role: "user", content: "must not leave" }] })
          .then(
            () => assert.fail("answered without an audit"),
            (e: unknown) => e,
          );
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 503);
        assert.match(err.message, /cloud\/m: not sent: the egress audit could not be written \(the store is closed\)/);
        assert.doesNotMatch(err.message, /tandem\.db/, "no path in what the client sees");
      }
      assert.equal(cloud.requests.length, before, "no byte reached the cloud upstream");
      const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
        targets: { target: string; breaker: string; health: string; failures: number }[];
      };
      const target = status.targets.find((t) => t.target === "cloud/m");
      assert.equal(target?.breaker, "closed", "the target was not at fault");
      assert.equal(target?.failures, 0, "nor counted in its error rate");
      const answer = await client.chat.completions.create({ model: "both", messages: [{ role: "user", content: "hi" }] });
      assert.equal(answer.choices[0]?.message.content, "from nearby", "the local tier needs no audit and still answers");
      assert.equal(cloud.requests.length, before);
      // The audit endpoint says the store failed, in the OpenAI error shape: never a 500.
      const audit = await fetch(`${tandem.url}/v1/audit`);
      assert.equal(audit.status, 503);
      const body = (await audit.json()) as { error: { message: string; type: string } };
      assert.match(body.error.message, /egress audit cannot be read/);
    } finally {
      await tandem.close();
    }
  });

  it("answers a full disk under the audit as a 503 to retry (Retry-After, x-should-retry), not as a configuration to change", async () => {
    const tandem = await startTandem(
      {
        providers: { cloud: { kind: "openai", baseUrl: cloud.url, local: false, models: ["m"] } },
        routes: { auto: { tiers: ["cloud/m"] } },
      },
      { store: true },
    );
    const store = tandem.server.store as NonNullable<typeof tandem.server.store>;
    const before = cloud.requests.length;
    try {
      // The disk fills: every audit append fails as the journal's does (ENOSPC), a failure that passes.
      const auditEgress = store.auditEgress.bind(store);
      store.auditEgress = () =>
        Promise.reject(new StoreError("disk_full", "cannot write the egress audit journal: the disk is full (ENOSPC)"));
      for (const path of ["/v1/chat/completions", "/v1/messages"]) {
        const body =
          path === "/v1/messages"
            ? { model: "auto", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }
            : { model: "auto", messages: [{ role: "user", content: "hi" }] };
        const answer = await fetch(`${tandem.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(answer.status, 503, path);
        assert.equal(answer.headers.get("retry-after"), "1", path);
        assert.notEqual(answer.headers.get("x-should-retry"), "false", path);
        const text = await answer.text();
        assert.match(text, /not sent: the egress audit could not be written \(the disk is full\)/, path);
        assert.doesNotMatch(text, /until the configuration changes/, path);
      }
      assert.equal(cloud.requests.length, before, "nothing left without its row");
      store.auditEgress = auditEgress;
      cloud.script(() => ({ kind: "text", text: "space is back" }));
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] });
      assert.equal(answer.choices[0]?.message.content, "space is back");
    } finally {
      await tandem.close();
    }
  });

  it("asks a background response's turn again while a full disk holds the audit back, and completes it once space is back", async () => {
    const tandem = await startTandem(
      {
        providers: { cloud: { kind: "openai", baseUrl: cloud.url, local: false, models: ["m"] } },
        routes: { auto: { tiers: ["cloud/m"] } },
      },
      { store: true },
    );
    const store = tandem.server.store as NonNullable<typeof tandem.server.store>;
    cloud.script(() => ({ kind: "text", text: "after the disk" }));
    try {
      const auditEgress = store.auditEgress.bind(store);
      let full = 2;
      store.auditEgress = (record) => {
        if (full-- > 0) return Promise.reject(new StoreError("disk_full", "the disk is full (ENOSPC)"));
        return auditEgress(record);
      };
      const created = (await (
        await fetch(`${tandem.url}/v1/responses`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "auto", input: "hi", background: true }),
        })
      ).json()) as { id: string };
      let response: { status: string; output_text?: string; output?: { content?: { text?: string }[] }[] } = { status: "queued" };
      const deadline = Date.now() + 15_000;
      while (["queued", "in_progress"].includes(response.status) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        response = (await (await fetch(`${tandem.url}/v1/responses/${created.id}`)).json()) as typeof response;
      }
      assert.equal(response.status, "completed", JSON.stringify(response));
      assert.equal(response.output?.[0]?.content?.[0]?.text, "after the disk");
    } finally {
      await tandem.close();
    }
  });
});
