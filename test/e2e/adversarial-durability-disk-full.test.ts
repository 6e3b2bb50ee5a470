/**
 * The state layer on a full disk, through the real server and the openai SDK: tandem's data dir is
 * a small tmpfs (skipped, saying why, where mounting one is not allowed), filled to the last byte.
 * Every request that must store something answers a clear 503 in OpenAI's shape (as the state
 * routes already did: tandem's answer to a passing store failure), none a 500 or a hang, none
 * leaves a half-made object, none quotes the database's path; requests that store nothing keep
 * working; and once space is back everything works again without a restart.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { fillUp, onTinyFilesystem } from "../store/store-support.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { startTandem } from "../support/tandem.js";

/** Big enough that no write of it fits in what the database's files had spare when the disk filled. */
const BIG = "kites and string ".repeat(6000);

/** The SDK's error for a request tandem could not store: a 503 in OpenAI's shape, without the file's path. */
function storeFull(dataDir: string) {
  return (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 503, JSON.stringify(err.error));
    const body = err.error as { type?: string; code?: string; message?: string };
    assert.equal(body.type, "service_unavailable_error");
    assert.equal(body.code, "service_unavailable");
    assert.ok(!String(body.message).includes(dataDir), `the error names the data dir: ${body.message}`);
    return true;
  };
}

describe("the state layer on a full disk", () => {
  it("answers 503 for what must be stored, keeps serving what need not be, leaves nothing half-made, and works again once space is back", async (t) => {
    await onTinyFilesystem(t, async (dir) => {
      const dataDir = join(dir, "data");
      // A local target: nothing needs the egress audit, so what fails is the state's own storage.
      const upstream = await startFakeOpenAI();
      const tandem = await startTandem(
        {
          providers: { home: { kind: "openai", baseUrl: upstream.url, local: true, models: ["gpt-4o-mini"] } },
          memory: { maxChars: 100_000 },
        },
        { store: true, dataDir },
      );
      try {
        await fullDisk(dir, dataDir, tandem.url);
      } finally {
        await tandem.close();
        await upstream.close();
      }
    });
  });
});

async function fullDisk(dir: string, dataDir: string, url: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 20_000 });
  const model = "home/gpt-4o-mini";
  const conversation = await client.conversations.create({ items: [{ role: "user", content: "hello" }] });
  const vectorStore = await client.vectorStores.create({ name: "notes" });
  const file = await client.files.create({ file: await toFile(Buffer.from(BIG), "notes.txt"), purpose: "assistants" });
  const responsesBefore = await responseIds(url);

  const filler = fillUp(dir);
  const full = storeFull(dataDir);
  await assert.rejects(client.files.create({ file: await toFile(Buffer.from(BIG), "more.txt"), purpose: "assistants" }), full);
  await assert.rejects(client.vectorStores.files.create(vectorStore.id, { file_id: file.id }), full);
  await assert.rejects(client.conversations.items.create(conversation.id, { items: [{ role: "user", content: BIG }] }), full);
  await assert.rejects(client.responses.create({ model, input: BIG }), full);
  await assert.rejects(client.responses.create({ model, input: BIG, conversation: conversation.id }), full);
  await assert.rejects(client.responses.create({ model, input: BIG, background: true }), full);
  await assert.rejects(client.chat.completions.create({ model, store: true, messages: [{ role: "user", content: BIG }] }), full);
  await assert.rejects(client.post("/memories", { body: { text: BIG.slice(0, 90_000) } }), full);
  // A stream that began before its response could be stored ends with OpenAI's error event.
  const events: Array<{ type: string; code?: unknown; message?: unknown }> = [];
  for await (const event of await client.responses.create({ model, input: BIG, stream: true })) events.push(event);
  const error = events.find((e) => e.type === "error");
  assert.ok(error, `no error event: ${events.map((e) => e.type).join(" ")}`);
  assert.equal(error.code, "service_unavailable");
  assert.ok(!String(error.message).includes(dataDir), `the error event names the data dir: ${error.message}`);
  assert.equal(events.at(-1)?.type, "response.failed");

  // What stores nothing still answers.
  assert.equal((await client.responses.create({ model, input: "hi", store: false })).status, "completed");
  assert.equal(
    (await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] })).object,
    "chat.completion",
  );

  // Nothing half-made: the lists hold what they held.
  assert.deepEqual(
    (await client.files.list()).data.map((f) => f.id),
    [file.id],
  );
  assert.deepEqual((await client.vectorStores.files.list(vectorStore.id)).data, []);
  assert.equal((await client.conversations.items.list(conversation.id)).data.length, 1);
  assert.deepEqual(await responseIds(url), responsesBefore);
  assert.deepEqual((await client.chat.completions.list()).data, []);

  // Space comes back: the same server stores again.
  rmSync(filler);
  const more = await client.files.create({ file: await toFile(Buffer.from(BIG), "more.txt"), purpose: "assistants" });
  assert.equal((await client.files.content(more.id).then((r) => r.text())).length, BIG.length);
  assert.equal((await client.vectorStores.files.createAndPoll(vectorStore.id, { file_id: file.id })).status, "completed");
  const turn = await client.responses.create({ model, input: "again", conversation: conversation.id });
  assert.equal((await client.responses.retrieve(turn.id)).status, "completed");
  assert.equal((await client.conversations.items.list(conversation.id)).data.length, 3);
  let background = await client.responses.create({ model, input: "later", background: true });
  while (background.status === "queued" || background.status === "in_progress") {
    await new Promise((r) => setTimeout(r, 20));
    background = await client.responses.retrieve(background.id);
  }
  assert.equal(background.status, "completed");
  const memory = (await client.post("/memories", { body: { text: "I fly kites" } })) as { id: string };
  assert.match(memory.id, /^mem/);
}

/** The stored responses, by tandem's own list. */
async function responseIds(url: string): Promise<string[]> {
  const res = await fetch(`${url}/v1/responses?limit=100`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: Array<{ id: string }> }).data.map((r) => r.id);
}
