/**
 * The encrypted store damaged underneath a running server (pages of tandem.db overwritten), through
 * the real server and the openai SDK. SQLCipher authenticates every page, so a read or write that
 * meets a damaged one fails: each request answers a clear 503 in OpenAI's shape (as GET /v1/audit
 * does), never a 500, and neither an answer nor a stream's error event quotes the database's path;
 * the server stays up.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/**
 * More than the store's page cache (SQLite's 16 MB here) holds, so reads after the damage go to the
 * file. Each file is 2.7 MB of text.
 */
const FILES = 8;

/** Overwrites `file` from `from` to its end with random bytes. */
function damage(file: string, from: number): void {
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  try {
    for (let offset = from; offset < size; offset += 4096)
      writeSync(fd, randomBytes(4096), 0, Math.min(4096, size - offset), offset);
  } finally {
    closeSync(fd);
  }
}

describe("a store damaged while the server runs", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-damaged-"));
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;
  let client: OpenAI;
  const fileIds: string[] = [];
  let stored: string;
  const log: string[] = [];

  before(async () => {
    upstream = await startFakeOpenAI();
    tandem = await startTandem(
      { providers: { home: { kind: "openai", baseUrl: upstream.url, local: true, models: ["gpt-4o-mini"] } } },
      { store: true, dataDir, log },
    );
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
    stored = (await client.responses.create({ model: "home/gpt-4o-mini", input: "remember this" })).id;
    for (let i = 0; i < FILES; i++) {
      const text = randomBytes(2_000_000).toString("base64");
      fileIds.push((await client.files.create({ file: await toFile(Buffer.from(text), `f${i}.txt`), purpose: "assistants" })).id);
    }
    // Every page but the database's first (the schema's), in the file and in its write-ahead log
    // (whose pages a checkpoint may not have copied yet), so whatever a request reads is damaged.
    damage(join(dataDir, "tandem.db"), 4096);
    damage(join(dataDir, "tandem.db-wal"), 32);
  });
  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  /** The SDK's error for a request the damaged store stopped: a 503 in OpenAI's shape, without the file's path. */
  function damaged(err: unknown): boolean {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 503, JSON.stringify(err.error));
    const body = err.error as { type?: string; message?: string };
    assert.equal(body.type, "service_unavailable_error");
    assert.match(String(body.message), /store/);
    assert.ok(!String(body.message).includes(dataDir), `the error names the data dir: ${body.message}`);
    return true;
  }

  it("answers the Files API, stored responses and a file named in a request with a 503, not a 500", async () => {
    await assert.rejects(
      client.files.content(fileIds[0] as string).then((r) => r.text()),
      damaged,
    );
    await assert.rejects(client.files.list(), damaged);
    await assert.rejects(client.responses.retrieve(stored), damaged);
    await assert.rejects(
      client.responses.create({ model: "home/gpt-4o-mini", input: "more", previous_response_id: stored }),
      damaged,
    );
    await assert.rejects(
      client.chat.completions.create({
        model: "home/gpt-4o-mini",
        messages: [{ role: "user", content: [{ type: "file", file: { file_id: fileIds[1] as string } }] }],
      }),
      damaged,
    );
    // What the answers leave out is in the server's log, for whoever runs tandem.
    const failures = log.map((line) => JSON.parse(line) as { msg?: string; err?: { message?: string } });
    const logged = failures.find((line) => line.msg === "the encrypted store failed");
    assert.match(String(logged?.err?.message), /tandem\.db is damaged/);
  });

  it("ends a stream whose response cannot be stored with an error event that does not name the database file", async () => {
    const logBefore = log.length;
    const events: Array<{ type: string; code?: unknown; message?: unknown }> = [];
    const stream = await client.responses.create({ model: "home/gpt-4o-mini", input: "y".repeat(50_000), stream: true });
    for await (const event of stream) events.push(event);
    const error = events.find((e) => e.type === "error");
    assert.ok(error, `no error event: ${events.map((e) => e.type).join(" ")}`);
    assert.equal(error.code, "service_unavailable");
    assert.ok(!String(error.message).includes(dataDir), `the error event names the data dir: ${error.message}`);
    assert.equal(events.at(-1)?.type, "response.failed");
    const logged = log.slice(logBefore).filter((line) => line.includes('"msg":"the encrypted store failed"'));
    assert.equal(logged.length, 1, "the stream's failure is in the server's log too");
  });

  it("stays up: what needs no store still answers", async () => {
    const answer = await client.responses.create({ model: "home/gpt-4o-mini", input: "hi", store: false });
    assert.equal(answer.status, "completed");
    const health = await fetch(`${tandem.url}/health`);
    assert.equal(health.status, 200);
  });
});
