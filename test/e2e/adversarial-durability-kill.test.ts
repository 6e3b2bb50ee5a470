/**
 * `kill -9` of `tandem serve` (the real CLI, its own process) while the state layer is mid-write:
 * a large multipart upload half sent, a vector store file being ingested, a background response
 * running, a memory waiting for its embedding. After a restart over the same data dir the store
 * opens and nothing half-made is listed as complete: no file without its bytes, the background
 * responses `failed` (never `in_progress` forever), the vector store file ingested again to
 * `completed` with its chunks searchable, no memory without its text; and the body a cloud
 * target received from a background response has its egress audit row.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { spawnServe } from "../support/tandem-serve.js";

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts `tandem serve` with `config`; resolves with its URL and the child (killed when the file ends). */
async function serve(home: string, config: string, key: string): Promise<{ url: string; child: ChildProcess }> {
  const started = await spawnServe(home, config, key);
  children.push(started.child);
  return started;
}

/** Waits until `check` holds, polling; fails after 20 s. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts a multipart upload of a `total`-byte file and sends its first `sent` bytes; resolves once
 * they are written to the socket (the rest never comes).
 */
async function halfUpload(url: string, total: number, sent: number): Promise<void> {
  const boundary = "----tandem-kill-test";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.txt"\r\nContent-Type: text/plain\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = request(`${url}/v1/files`, {
    method: "POST",
    headers: {
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": String(head.length + total + tail.length),
    },
  });
  req.on("error", () => {}); // the server dies under it
  await new Promise<void>((resolve) => req.write(Buffer.concat([head, Buffer.alloc(sent, "a")]), () => resolve()));
}

describe("kill -9 mid-write, then a restart", () => {
  it("lists nothing half-made as complete, fails the interrupted background response, and ingests the file again", async () => {
    const upstream = await startFakeOpenAI();
    after(() => upstream.close());
    const cloud = await startFakeOpenAI();
    after(() => cloud.close());
    const home = mkdtempSync(join(tmpdir(), "tandem-kill-state-"));
    const key = randomBytes(32).toString("hex");
    const config = join(home, "tandem.config.yaml");
    writeFileSync(
      config,
      [
        `dataDir: "${join(home, "data")}"`,
        "health: { probeIntervalMs: 0 }",
        "providers:",
        `  home: { kind: openai, baseUrl: "${upstream.url}", local: true, models: [gpt-4o-mini, text-embedding-3-small] }`,
        `  cloud: { kind: openai, baseUrl: "${cloud.url}", local: false, models: [gpt-4o-mini] }`,
        "memory: { embeddings: home/text-embedding-3-small }",
        "vectorStores: { embeddings: home/text-embedding-3-small }",
        "",
      ].join("\n"),
    );
    const first = await serve(home, config, key);
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
    const text = "Kites need a steady wind of about fifteen kilometres an hour.";
    const file = await client.files.create({ file: await toFile(Buffer.from(text), "kites.txt"), purpose: "assistants" });
    const vectorStore = await client.vectorStores.create({ name: "kites" });

    // From here the model and the embedder answer nothing: every write that waits for them is under way.
    upstream.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const embeddings = () => upstream.requests.filter((r) => r.path.endsWith("/embeddings")).length;
    const chats = () => upstream.requests.filter((r) => r.path.endsWith("/chat/completions")).length;
    const ingesting = await client.vectorStores.files.create(vectorStore.id, { file_id: file.id });
    assert.equal(ingesting.status, "in_progress");
    await until("the ingestion's embedding request", () => embeddings() >= 1);
    const background = await client.responses.create({ model: "home/gpt-4o-mini", input: "fly a kite", background: true });
    await until("the background turn's model request", () => chats() >= 1);
    cloud.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const cloudRun = await client.responses.create({
      model: "cloud/gpt-4o-mini",
      input: "what wind for a kite?",
      background: true,
    });
    await until("the cloud turn's request", () => cloud.requests.some((r) => r.path.endsWith("/chat/completions")));
    const memoryPending = fetch(`${first.url}/v1/memories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "I fly kites on Sundays" }),
    }).catch(() => undefined);
    await until("the memory's embedding request", () => embeddings() >= 2);
    await halfUpload(first.url, 8 * 1024 * 1024, 1024 * 1024);

    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exited;
    await memoryPending;

    upstream.script(() => ({ kind: "text", text: "Hello from openai" }));
    const second = await serve(home, config, key);
    const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
    // No file without its bytes: only the one whose upload ended is listed, and it reads whole.
    const files = await again.files.list();
    assert.deepEqual(
      files.data.map((f) => f.id),
      [file.id],
    );
    assert.equal(await (await again.files.content(file.id)).text(), text);
    // The background response that was running is failed, by id and in tandem's list alike.
    const settled = await again.responses.retrieve(background.id);
    assert.equal(settled.status, "failed");
    assert.equal((await again.responses.retrieve(cloudRun.id)).status, "failed");
    const listed = (await (await fetch(`${second.url}/v1/responses`)).json()) as { data: Array<{ id: string; status: string }> };
    assert.deepEqual(
      listed.data.map((r) => [r.id, r.status]).sort(),
      [
        [background.id, "failed"],
        [cloudRun.id, "failed"],
      ].sort(),
    );
    // The body the cloud target received has its audit row (written before it left).
    const audit = (await (await fetch(`${second.url}/v1/audit`)).json()) as { data: Array<{ target: string }> };
    assert.deepEqual(
      audit.data.map((row) => row.target),
      ["cloud/gpt-4o-mini"],
    );
    // The file being ingested is ingested again at the start, to completed with its chunks.
    let vectorFile = await again.vectorStores.files.retrieve(file.id, { vector_store_id: vectorStore.id });
    await until("the resumed ingestion", async () => {
      vectorFile = await again.vectorStores.files.retrieve(file.id, { vector_store_id: vectorStore.id });
      return vectorFile.status !== "in_progress";
    });
    assert.equal(vectorFile.status, "completed");
    const found = await again.vectorStores.search(vectorStore.id, { query: "steady wind kites" });
    assert.equal(found.data[0]?.file_id, file.id);
    // The memory whose embedding never came was never stored.
    const memories = (await (await fetch(`${second.url}/v1/memories`)).json()) as { data: unknown[] };
    assert.deepEqual(memories.data, []);
    second.child.kill("SIGTERM");
  });

  it("keeps the conversation items an interrupted background run in a conversation was given", async () => {
    const upstream = await startFakeOpenAI();
    after(() => upstream.close());
    const home = mkdtempSync(join(tmpdir(), "tandem-kill-conversation-"));
    const key = randomBytes(32).toString("hex");
    const config = join(home, "tandem.config.yaml");
    writeFileSync(
      config,
      [
        `dataDir: "${join(home, "data")}"`,
        "health: { probeIntervalMs: 0 }",
        "providers:",
        `  home: { kind: openai, baseUrl: "${upstream.url}", local: true, models: [gpt-4o-mini] }`,
        "",
      ].join("\n"),
    );
    const first = await serve(home, config, key);
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
    const conversation = await client.conversations.create({ items: [{ role: "user", content: "seedK" }] });
    // The model answers nothing: the run is under way (its turn saved as it began) when tandem is killed.
    upstream.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const run = await client.responses.create({
      model: "home/gpt-4o-mini",
      input: "bgK",
      background: true,
      conversation: conversation.id,
    });
    await until("the run's model request", () => upstream.requests.some((r) => r.path.endsWith("/chat/completions")));
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exited;

    upstream.requests.length = 0;
    upstream.script(() => ({ kind: "text", text: "answerK" }));
    const second = await serve(home, config, key);
    const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
    assert.equal((await again.responses.retrieve(run.id)).status, "failed");
    const texts = (items: Array<{ type: string; content?: unknown }>) =>
      items.map((item) => JSON.stringify(item.content ?? item.type).match(/"text":"([^"]*)"/)?.[1]);
    // Its input items list the conversation as it was given it, then its own input; read twice, as
    // the first read is the one that fails it in the store.
    for (let read = 0; read < 2; read++) {
      const items = await again.responses.inputItems.list(run.id, { order: "asc" });
      assert.deepEqual(texts(items.data as never), ["seedK", "bgK"]);
    }
    // A follow-up is sent its whole history.
    const next = await again.responses.create({ model: "home/gpt-4o-mini", input: "contK", previous_response_id: run.id });
    assert.equal(next.status, "completed");
    const sent = upstream.requests.find((r) => r.path.endsWith("/chat/completions"))?.body as {
      messages: Array<{ role: string; content: unknown }>;
    };
    assert.deepEqual(
      sent.messages.map((m) => [m.role, typeof m.content === "string" ? m.content : JSON.stringify(m.content)]),
      [
        ["user", "seedK"],
        ["user", "bgK"],
        ["user", "contK"],
      ],
    );
    // The conversation itself took nothing of the run.
    const kept = await again.conversations.items.list(conversation.id, { order: "asc" });
    assert.deepEqual(texts(kept.data as never), ["seedK"]);
    second.child.kill("SIGTERM");
  });
});
