/**
 * Replacing or deleting a local model while a client's answer from it is being written, with two
 * concurrent clients (as Ollama's scheduler does: a model marked for reload or unload gets no new
 * requests): the answer in progress finishes on the old model, uncut, while a second client's
 * request made after the replace is answered by the new model (or gets a 404 after a delete) at
 * once, not once the old one is idle. On scripted models: one that never stops ("tick tock ..."),
 * one that says "Hello from tandem.".
 */
import assert from "node:assert/strict";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { renderPsTable } from "../../src/cli/ps.js";
import { makeModelDir, writeChatModel, writeLoopingModel } from "../support/gguf/index.js";
import { statusOutput } from "../support/status-output.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;
let ollama: Ollama;
let models: string;
const HELLO = "Hello from tandem.";

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  // The endless answers go through routes that do not judge them as looping (they do, by design).
  const endless = { quality: { repetition: false } };
  tandem = await startTandem({
    providers: { local: { kind: "llamacpp", threads: 1, parallel: 2 } },
    routes: {
      "endless-busy-create": { tiers: ["local/busy-create"], ...endless },
      "endless-busy-copy": { tiers: ["local/busy-copy"], ...endless },
      "endless-doomed": { tiers: ["local/doomed"], ...endless },
    },
  });
  models = join(tandem.dataDir, "models");
  await mkdir(models, { recursive: true });
  await writeLoopingModel(join(models, "loop.gguf"));
  await writeChatModel(join(models, "chat.gguf"));
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

/** A looping model under `name`, loaded, writing an endless answer: resolves once its first chunks came. */
async function busyWith(name: string) {
  await copyFile(join(models, "loop.gguf"), join(models, `${name}.gguf`));
  await loadLocalModel(tandem, `local/${name}`);
  const stream = await openai.chat.completions.create({
    model: `endless-${name}`,
    messages: [{ role: "user", content: "Go" }],
    max_tokens: 1500,
    temperature: 0,
    stream: true,
  });
  const iterator = stream[Symbol.asyncIterator]();
  for (let i = 0; i < 3; i++) assert.ok(!(await iterator.next()).done);
  const rest = (async () => {
    let text = "";
    let chunks = 3;
    let finish: string | null | undefined;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      chunks++;
      text += next.value.choices[0]?.delta.content ?? "";
      finish = next.value.choices[0]?.finish_reason ?? finish;
    }
    return { text, chunks, finish };
  })();
  return { rest };
}

const ask = (model: string) =>
  openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }], max_tokens: 8, temperature: 0 });

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const instances = async (name: string) => (await ollama.ps()).models.filter((m) => m.name === name).length;

interface StatusLoaded {
  target: string;
  unloading?: boolean;
  load: { active: number; slots: number; queued: number };
}

/** The loads of a model in /v1/status. */
async function statusOf(target: string): Promise<StatusLoaded[]> {
  const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as { providers: { loaded?: StatusLoaded[] }[] };
  return body.providers.flatMap((p) => p.loaded ?? []).filter((m) => m.target === target);
}

/**
 * While the old load finishes its answer and the new one serves: /api/ps lists both, the old one
 * past its expiry (`tandem ps`: "Stopping..."), and /v1/status says which one is unloading and that
 * it still has a request running.
 */
async function checkStatusDuringReplace(target: string): Promise<void> {
  const listed = (await ollama.ps()).models.filter((m) => m.name === target);
  assert.equal(listed.length, 2, "both loads are listed while the old one finishes");
  const now = Date.now();
  const stopping = listed.filter((m) => new Date(m.expires_at).getTime() <= now);
  assert.equal(stopping.length, 1, "the old load is the one past its expiry");
  const table = renderPsTable(
    listed.map((m) => ({ ...m, expires_at: new Date(m.expires_at).toISOString() })),
    now,
  );
  assert.match(table, /Stopping\.\.\./);
  const loads = await statusOf(target);
  assert.equal(loads.length, 2);
  const old = loads.find((m) => m.unloading === true);
  assert.ok(old, "/v1/status says which load is unloading");
  assert.equal(old.load.active, 1, "the old load still writes its answer");
  const current = loads.find((m) => m.unloading !== true);
  assert.equal(current?.load.active, 0, "the new load's request is done");
  const name = target.replace(/^local\//, "");
  const lines = (await statusOutput(tandem.url)).split("\n").filter((l) => l.includes(`loaded: ${name} `));
  assert.equal(lines.length, 2, "tandem status lists both loads");
  assert.ok(
    lines.some((l) => /1\/2 busy, 0 waiting, unloading once its requests are done$/.test(l)),
    `tandem status says the old load unloads once its answer is done:\n${lines.join("\n")}`,
  );
}

for (const how of ["create", "copy"] as const) {
  describe(`/api/${how} replacing a model that is writing an answer`, () => {
    it("serves new requests from the new model at once, and lets the old one finish its answer", async () => {
      const name = `busy-${how}`;
      const first = await busyWith(name);
      if (how === "create") {
        assert.deepEqual(await ollama.create({ model: name, from: "local/chat" }), { status: "success" });
      } else {
        assert.deepEqual(await ollama.copy({ source: "local/chat", destination: name }), { status: "success" });
      }
      // A second client, while the first answer is still being written.
      const answer = await ask(`local/${name}`);
      assert.equal(answer.choices[0]?.message.content, HELLO, "the new request went to the new model");
      await checkStatusDuringReplace(`local/${name}`);
      const written = await first.rest;
      assert.equal(written.finish, "length", "the answer in progress was not cut");
      assert.ok(written.chunks > 500, `it ran to its end (${written.chunks} chunks)`);
      assert.match(written.text, /^(tick| tock| )+$/, "from the old model to its end");
      // The old model goes once its answer is done; the new one stays.
      await waitFor(async () => (await instances(`local/${name}`)) === 1, "the old model to unload");
      assert.deepEqual(
        (await statusOf(`local/${name}`)).map((m) => m.unloading ?? false),
        [false],
        "once the old load is gone, the new one is not unloading",
      );
      const again = await ask(`local/${name}`);
      assert.equal(again.choices[0]?.message.content, HELLO);
    });
  });
}

describe("/api/delete of a model that is writing an answer", () => {
  it("answers new requests 404 at once, and lets the answer in progress finish", async () => {
    const first = await busyWith("doomed");
    assert.deepEqual(await ollama.delete({ model: "local/doomed" }), { status: "success" });
    await assert.rejects(ask("local/doomed"), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError, String(err));
      return true;
    });
    const written = await first.rest;
    assert.equal(written.finish, "length", "the answer in progress was not cut");
    assert.match(written.text, /^(tick| tock| )+$/);
    await waitFor(async () => (await instances("local/doomed")) === 0, "the deleted model to unload");
  });
});
