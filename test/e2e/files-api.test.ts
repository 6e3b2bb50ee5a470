/**
 * OpenAI's Files API on a real tandem, through the official openai SDK (`client.files.create`,
 * `list` with auto-paging, `retrieve`, `content`, `delete`), with `toFile` and a file read from disk,
 * then the multipart edge cases with raw requests (no file, no purpose, a bad purpose, an empty file,
 * one over `files.maxBytes`, a huge filename, a wrong Content-Type), list order, paging and the
 * purpose filter, expiry (by a clock the test moves), delete then read (404), and files surviving a
 * restart over the same data dir with the encrypted store on.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { MemoryFileStore } from "../../src/harness/files/memory-file-store.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MAX_BYTES = 64 * 1024;

describe("the Files API in memory (store off)", () => {
  let tandem: RunningTandem;
  let client: OpenAI;
  let now = 1_800_000_000;
  const files = new MemoryFileStore(() => now);

  before(async () => {
    tandem = await startTandem({ files: { maxBytes: MAX_BYTES } }, { files });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  after(() => tandem?.close());

  it("creates, retrieves, reads and deletes a file with the SDK (toFile)", async () => {
    const created = await client.files.create({
      file: await toFile(Buffer.from("# Notes\nhello files\n"), "notes.md"),
      purpose: "user_data",
    });
    assert.match(created.id, /^file-[A-Za-z0-9]{24}$/);
    assert.deepEqual(
      { ...created, id: "x", created_at: 0 },
      {
        object: "file",
        id: "x",
        purpose: "user_data",
        filename: "notes.md",
        bytes: 20,
        created_at: 0,
        status: "processed",
      },
    );
    assert.deepEqual(await client.files.retrieve(created.id), created);
    const content = await client.files.content(created.id);
    assert.equal(content.headers.get("content-type"), "text/markdown; charset=utf-8");
    assert.equal(await content.text(), "# Notes\nhello files\n");
    assert.deepEqual(await client.files.delete(created.id), { id: created.id, object: "file", deleted: true });
    await assert.rejects(client.files.retrieve(created.id), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.deepEqual(err.error, {
        message: `No such File object: ${created.id}`,
        type: "invalid_request_error",
        param: "id",
        code: null,
      });
      return true;
    });
    await assert.rejects(client.files.content(created.id), OpenAI.NotFoundError);
    await assert.rejects(client.files.delete(created.id), OpenAI.NotFoundError);
  });

  it("names the file in content-disposition, encoded (no header can be forged by a file name)", async () => {
    const created = await client.files.create({
      file: await toFile(Buffer.from("x"), "it's (1)\r\nx-evil: 1 ü.txt"),
      purpose: "user_data",
    });
    const res = await fetch(`${tandem.url}/v1/files/${created.id}/content`);
    assert.equal(res.headers.get("x-evil"), null);
    const disposition = res.headers.get("content-disposition") ?? "";
    assert.match(disposition, /^attachment; filename\*=UTF-8''[A-Za-z0-9%._~-]+$/);
    assert.equal(decodeURIComponent(disposition.split("''")[1] ?? ""), created.filename);
    await client.files.delete(created.id);
  });

  it("serves an uploaded page as data, never as a page of tandem's origin (the console's)", async () => {
    const page = Buffer.from("<!doctype html><script>fetch('/v1/memories').then(r => r.text()).then(alert)</script>");
    const created = await client.files.create({ file: await toFile(page, "page.html"), purpose: "user_data" });
    const res = await fetch(`${tandem.url}/v1/files/${created.id}/content`);
    assert.equal(Buffer.from(await res.arrayBuffer()).equals(page), true);
    assert.match(res.headers.get("content-disposition") ?? "", /^attachment;/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("content-security-policy"), "default-src 'none'; sandbox");
    await client.files.delete(created.id);
  });

  it("uploads a file read from disk, bytes intact, and labels a PDF by its bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-files-"));
    const path = join(dir, "report.bin");
    const bytes = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(20_000)]);
    writeFileSync(path, bytes);
    const created = await client.files.create({ file: createReadStream(path), purpose: "assistants" });
    assert.equal(created.filename, "report.bin");
    assert.equal(created.bytes, bytes.length);
    const content = await client.files.content(created.id);
    assert.equal(content.headers.get("content-type"), "application/pdf");
    assert.ok(Buffer.from(await content.arrayBuffer()).equals(bytes));
    await client.files.delete(created.id);
  });

  it("lists newest first by default, pages with the SDK's auto-paging, and filters by purpose", async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const purpose = i % 2 === 0 ? "user_data" : "evals";
      made.push((await client.files.create({ file: await toFile(Buffer.from(`file ${i}`), `f${i}.txt`), purpose })).id);
    }
    const first = await client.files.list({ limit: 3 });
    assert.deepEqual(
      first.data.map((f) => f.id),
      made.slice(-3).reverse(),
    );
    assert.equal(first.has_more, true);
    const raw = (await (await fetch(`${tandem.url}/v1/files?limit=3&order=asc`)).json()) as Record<string, unknown>;
    assert.equal(raw.object, "list");
    assert.equal(raw.first_id, made[0]);
    assert.equal(raw.last_id, made[2]);
    assert.equal(raw.has_more, true);

    const all: string[] = [];
    for await (const file of client.files.list({ limit: 2, order: "asc" })) all.push(file.id);
    assert.deepEqual(all, made);
    const evals: string[] = [];
    for await (const file of client.files.list({ limit: 1, purpose: "evals", order: "asc" })) evals.push(file.id);
    assert.deepEqual(evals, [made[1], made[3], made[5]]);
    // The evals list holds no user_data file: `after` naming one is OpenAI's 404 naming the cursor.
    const res = await fetch(`${tandem.url}/v1/files?purpose=evals&after=${made[0]}`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, "after");
    for (const id of made) await client.files.delete(id);
    assert.deepEqual((await client.files.list()).data, []);
  });

  it("expires a file: expires_after, and 30 days for batch files by default", async () => {
    const short = await client.files.create({
      file: await toFile(Buffer.from("soon gone"), "short.txt"),
      purpose: "user_data",
      expires_after: { anchor: "created_at", seconds: 3600 },
    });
    assert.equal(short.expires_at, short.created_at + 3600);
    const batch = await client.files.create({ file: await toFile(Buffer.from("{}\n"), "b.jsonl"), purpose: "batch" });
    assert.equal(batch.expires_at, batch.created_at + 30 * 86_400);
    const saved = now;
    try {
      now += 3600;
      await assert.rejects(client.files.retrieve(short.id), OpenAI.NotFoundError);
      await assert.rejects(client.files.content(short.id), OpenAI.NotFoundError);
      assert.deepEqual(
        (await client.files.list()).data.map((f) => f.id),
        [batch.id],
      );
      // Gone from the store itself, not only hidden.
      now = saved;
      assert.equal(await files.getFile(short.id), undefined);
    } finally {
      now = saved;
      await client.files.delete(batch.id);
    }
  });

  describe("multipart edge cases", () => {
    const post = (form: FormData | string, headers: Record<string, string> = {}) =>
      fetch(`${tandem.url}/v1/files`, { method: "POST", body: form, headers });
    const form = (fields: Record<string, string | Blob>, filename = "a.txt") => {
      const data = new FormData();
      for (const [name, value] of Object.entries(fields)) {
        if (value instanceof Blob) data.append(name, value, filename);
        else data.append(name, value);
      }
      return data;
    };
    const expectError = async (res: Response, status: number, param: string | null, message: RegExp) => {
      const body = (await res.json()) as { error: { message: string; type: string; param: string | null } };
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(body.error.type, "invalid_request_error");
      assert.equal(body.error.param, param);
      assert.match(body.error.message, message);
    };

    it("no file, no purpose, a bad purpose", async () => {
      await expectError(await post(form({ purpose: "user_data" })), 400, "file", /Missing required parameter: 'file'/);
      await expectError(await post(form({ file: new Blob(["x"]) })), 400, "purpose", /Missing required parameter: 'purpose'/);
      await expectError(
        await post(form({ file: new Blob(["x"]), purpose: "memes" })),
        400,
        "purpose",
        /Invalid value for 'purpose': 'memes'. Supported values are: 'assistants', 'batch'/,
      );
      await expectError(await post(form({ file: "just text", purpose: "user_data" })), 400, "file", /expected a file upload/);
      await expectError(
        await post(form({ file: new Blob(["x"]), purpose: "user_data", colour: "red" })),
        400,
        "colour",
        /Unrecognized request argument supplied: colour/,
      );
      const twice = new FormData();
      twice.append("purpose", "user_data");
      twice.append("purpose", "batch");
      twice.append("file", new Blob(["x"]), "a.txt");
      await expectError(await post(twice), 400, "purpose", /expected a single value/);
      assert.deepEqual((await client.files.list()).data, [], "nothing stored");
    });

    it("a bad expires_after", async () => {
      const base = { file: new Blob(["x"]), purpose: "user_data" };
      await expectError(
        await post(form({ ...base, "expires_after[anchor]": "created_at", "expires_after[seconds]": "60" })),
        400,
        "expires_after.seconds",
        /from 3600/,
      );
      await expectError(
        await post(form({ ...base, "expires_after[anchor]": "last_used", "expires_after[seconds]": "3600" })),
        400,
        "expires_after.anchor",
        /'created_at'/,
      );
    });

    it("an empty file, and a huge filename", async () => {
      await expectError(await post(form({ file: new Blob([]), purpose: "user_data" })), 400, "file", /the file is empty/);
      await expectError(
        await post(form({ file: new Blob(["x"]), purpose: "user_data" }, `${"n".repeat(5000)}.txt`)),
        400,
        "file",
        /longer than 1024 characters/,
      );
    });

    it("a file over files.maxBytes is a 413 naming the setting, and nothing is stored", async () => {
      const res = await post(form({ file: new Blob([new Uint8Array(MAX_BYTES + 1)]), purpose: "user_data" }));
      const body = (await res.json()) as { error: { message: string; param: string; code: string } };
      assert.equal(res.status, 413);
      assert.equal(body.error.param, "file");
      assert.match(body.error.message, /files\.maxBytes/);
      assert.deepEqual((await client.files.list()).data, []);
      // Exactly the limit is fine.
      const ok = await post(form({ file: new Blob([new Uint8Array(MAX_BYTES).fill(65)]), purpose: "user_data" }));
      assert.equal(ok.status, 200);
      await client.files.delete(((await ok.json()) as { id: string }).id);
    });

    it("a wrong content type: JSON, and multipart without a boundary", async () => {
      const json = await post(JSON.stringify({ purpose: "user_data" }), { "content-type": "application/json" });
      assert.equal(json.status, 415);
      const body = (await json.json()) as { error: { message: string } };
      assert.match(body.error.message, /multipart\/form-data/);
      await expectError(await post("--x--", { "content-type": "multipart/form-data" }), 400, null, /multipart/);
    });

    it("limit, order and an unknown id on the other routes", async () => {
      await expectError(await fetch(`${tandem.url}/v1/files?limit=0`), 400, "limit", /below minimum/);
      await expectError(await fetch(`${tandem.url}/v1/files?order=up`), 400, "order", /'asc' and 'desc'/);
      await expectError(await fetch(`${tandem.url}/v1/files/file-nope`), 404, "id", /No such File object: file-nope/);
    });

    it("ids of another shape: too long, or not decodable, are answered in OpenAI's shape", async () => {
      const long = `file-${"a".repeat(500)}`;
      for (const path of [`/v1/files/${long}`, `/v1/files/${long}/content`]) {
        const res = await fetch(`${tandem.url}${path}`);
        await expectError(res, 404, null, /Invalid URL \(GET \/v1\/files\/file-a+/);
      }
      await expectError(await fetch(`${tandem.url}/v1/files/%E0%A4%A`), 400, null, /Invalid URL/);
    });
  });
});

describe("the Files API in the encrypted store", () => {
  it("keeps files across a restart over the same data dir, and deletes them for good", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-files-store-"));
    const key = randomBytes(32);
    let tandem = await startTandem({}, { store: { key }, dataDir });
    let client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const bytes = randomBytes(50_000);
    const kept = await client.files.create({ file: await toFile(bytes, "blob.bin"), purpose: "user_data" });
    const gone = await client.files.create({ file: await toFile(Buffer.from("delete me"), "gone.txt"), purpose: "user_data" });
    await client.files.delete(gone.id);
    await tandem.close();

    tandem = await startTandem({}, { store: { key }, dataDir });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      assert.deepEqual(await client.files.retrieve(kept.id), kept);
      const content = await client.files.content(kept.id);
      assert.equal(content.headers.get("content-type"), "application/octet-stream");
      assert.ok(Buffer.from(await content.arrayBuffer()).equals(bytes));
      await assert.rejects(client.files.retrieve(gone.id), OpenAI.NotFoundError);
      assert.deepEqual(
        (await client.files.list()).data.map((f) => f.id),
        [kept.id],
      );
    } finally {
      await tandem.close();
    }
  });
});

describe("an upload that stalls mid-body", () => {
  let tandem: RunningTandem;

  before(async () => {
    tandem = await startTandem({ server: { bodyTimeoutMs: 300 } }, { files: new MemoryFileStore() });
  });
  after(() => tandem?.close());

  it("is answered 408 in OpenAI's shape naming server.bodyTimeoutMs, the connection closed, nothing stored", async () => {
    const boundary = "tandem-stall";
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nthe first half`,
    );
    const res = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const req = request(
        `${tandem.url}/v1/files`,
        {
          method: "POST",
          headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length * 2 },
        },
        (answer) => {
          let text = "";
          answer.setEncoding("utf8");
          answer.on("data", (d: string) => {
            text += d;
          });
          answer.on("end", () => resolve({ status: answer.statusCode ?? 0, body: text, connection: answer.headers.connection }));
        },
      );
      req.on("error", reject);
      req.write(head);
    });
    assert.equal(res.status, 408, res.body);
    const body = JSON.parse(res.body) as { error: { message: string; type: string } };
    assert.match(body.error.message, /server\.bodyTimeoutMs \(300 ms\)/);
    assert.equal(res.connection, "close", "the rest of the body is not waited for");
    const list = (await (await fetch(`${tandem.url}/v1/files`)).json()) as { data: unknown[] };
    assert.deepEqual(list.data, []);
  });
});

describe("an upload with more than one file part", () => {
  let tandem: RunningTandem;
  // Long enough for any body here to arrive from loopback, short enough that a stuck read fails fast.
  const BODY_TIMEOUT_MS = 5000;

  before(async () => {
    tandem = await startTandem(
      { server: { bodyTimeoutMs: BODY_TIMEOUT_MS }, files: { maxBytes: 1024 * 1024 } },
      { files: new MemoryFileStore() },
    );
  });
  after(() => tandem?.close());

  // Sizes from the black-box report: small parts were refused at once, but a second part of 70 KB
  // or more left the body unread until server.bodyTimeoutMs gave a 408.
  const cases: [string, [name: string, bytes: number][]][] = [
    [
      "two small files",
      [
        ["file", 1000],
        ["file", 1000],
      ],
    ],
    [
      "two files of 200 KB",
      [
        ["file", 200_000],
        ["file", 200_000],
      ],
    ],
    [
      "a small file, then another file part of 300 KB",
      [
        ["file", 10],
        ["other", 300_000],
      ],
    ],
    [
      "three files of 200 KB",
      [
        ["file", 200_000],
        ["file", 200_000],
        ["file", 200_000],
      ],
    ],
    // Past busboy's own limits.parts as well.
    ["100 file parts of 100 KB", Array.from({ length: 100 }, () => ["file", 100_000] as [string, number])],
  ];
  for (const [label, parts] of cases) {
    it(`${label}: a 400 at once naming the part, the body read through, nothing stored`, async () => {
      const form = new FormData();
      for (const [name, bytes] of parts) form.append(name, new Blob([new Uint8Array(bytes).fill(98)]), "a.txt");
      form.append("purpose", "user_data");
      const started = Date.now();
      const res = await fetch(`${tandem.url}/v1/files`, { method: "POST", body: form });
      const body = (await res.json()) as { error: { message: string; type: string; param: string } };
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(Date.now() - started < BODY_TIMEOUT_MS / 2, `answered after ${Date.now() - started} ms`);
      assert.equal(body.error.type, "invalid_request_error");
      const second = parts[1]?.[0];
      if (second === "file") {
        assert.equal(body.error.param, "file");
        assert.match(body.error.message, /upload one file per request/);
      } else {
        assert.equal(body.error.param, second);
        assert.match(body.error.message, new RegExp(`Unrecognized request argument supplied: ${second}`));
      }
      const list = (await (await fetch(`${tandem.url}/v1/files`)).json()) as { data: unknown[] };
      assert.deepEqual(list.data, []);
    });
  }

  it("the connection is still usable after the refusal (keep-alive: the body was consumed)", async () => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(200_000).fill(98)]), "a.txt");
    form.append("file", new Blob([new Uint8Array(200_000).fill(98)]), "b.txt");
    form.append("purpose", "user_data");
    assert.equal((await fetch(`${tandem.url}/v1/files`, { method: "POST", body: form })).status, 400);
    const ok = new FormData();
    ok.append("file", new Blob(["hello"]), "ok.txt");
    ok.append("purpose", "user_data");
    assert.equal((await fetch(`${tandem.url}/v1/files`, { method: "POST", body: ok })).status, 200);
  });
});
