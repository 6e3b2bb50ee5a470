/**
 * A model goes by the name an Ollama client pulled it by, as Ollama's does (`ollama run X` pulls X,
 * then chats with X): `qwen2.5:0.5b`, `hf.co/owner/repo:Q4_K_M` and `owner/repo` (`:latest`
 * implied) answer generate, chat and show, are listed in /api/tags and /v1/models, and still do so
 * after a restart; the name derived from the file keeps working. A pull of a name no pull takes is
 * refused with its status before the progress stream begins.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CONFIG = { providers: { local: { kind: "llamacpp" as const, threads: 1 } } };

let hub: FakeHfHub;
let tandem: RunningTandem;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const file = join(made.dir, "chat.gguf");
  await writeChatModel(file);
  const content = await readFile(file);
  hub = await startFakeHfHub({
    repos: [
      // Where the alias `qwen2.5-0.5b` (Ollama-style `qwen2.5:0.5b`) is pulled from.
      { id: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", files: [{ path: "qwen2.5-0.5b-instruct-q4_k_m.gguf", content }] },
      { id: "tandem-tests/Chat-GGUF", files: [{ path: "chat-Q8_0.gguf", content }] },
      { id: "tandem-tests/Other-GGUF", files: [{ path: "other-Q4_K_M.gguf", content }] },
    ],
  });
  tandem = await startTandem(CONFIG, { env: { HF_ENDPOINT: hub.url } });
});

after(async () => {
  await tandem?.close();
  await hub?.close();
  await cleanup?.();
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("a model pulled by an Ollama name", () => {
  it("answers generate, chat and show by that name right after the pull, and by its file's name", async () => {
    const ollama = new Ollama({ host: tandem.url });
    assert.equal((await ollama.pull({ model: "qwen2.5:0.5b", stream: false })).status, "success");
    const generated = await ollama.generate({ model: "qwen2.5:0.5b", prompt: "Hi", options: { num_predict: 4 } });
    assert.equal(generated.done, true);
    const chatted = await ollama.chat({ model: "qwen2.5:0.5b", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(chatted.message.content, "Hello from tandem.");
    assert.equal((await ollama.show({ model: "qwen2.5:0.5b" })).details.format, "gguf");
    // The name the README gives an alias's file still works.
    assert.equal((await ollama.show({ model: "qwen2.5-0.5b" })).details.format, "gguf");
    assert.equal((await ollama.show({ model: "local/qwen2.5:0.5b" })).details.format, "gguf");
  });

  it("does so for hf.co/owner/repo:quant, pulled with a progress stream", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const statuses: string[] = [];
    for await (const part of await ollama.pull({ model: "hf.co/tandem-tests/Chat-GGUF:Q8_0", stream: true })) {
      statuses.push(part.status);
    }
    assert.equal(statuses.at(-1), "success");
    const chatted = await ollama.chat({
      model: "hf.co/tandem-tests/Chat-GGUF:Q8_0",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(chatted.message.content, "Hello from tandem.");
    assert.equal((await ollama.show({ model: "hf.co/tandem-tests/Chat-GGUF:Q8_0" })).details.format, "gguf");
    assert.equal((await ollama.show({ model: "chat-Q8_0" })).details.format, "gguf");
  });

  it("does so for owner/repo, with or without the :latest Ollama implies", async () => {
    const ollama = new Ollama({ host: tandem.url });
    assert.equal((await ollama.pull({ model: "tandem-tests/Other-GGUF", stream: false })).status, "success");
    for (const model of ["tandem-tests/Other-GGUF", "tandem-tests/Other-GGUF:latest"]) {
      const chatted = await ollama.chat({ model, messages: [{ role: "user", content: "Hi" }] });
      assert.equal(chatted.message.content, "Hello from tandem.", model);
    }
  });

  it("lists the pulled names in /api/tags and /v1/models beside the files' names", async () => {
    const tags = (await (await fetch(`${tandem.url}/api/tags`)).json()) as { models: { name: string }[] };
    const listed = tags.models.map((m) => m.name);
    for (const name of [
      "local/qwen2.5:0.5b",
      "local/qwen2.5-0.5b",
      "local/hf.co/tandem-tests/Chat-GGUF:Q8_0",
      "local/chat-Q8_0",
      "local/tandem-tests/Other-GGUF:latest",
    ]) {
      assert.ok(listed.includes(name), `${name} in ${listed.join(", ")}`);
    }
    const models = (await (await fetch(`${tandem.url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.ok(models.data.some((m) => m.id === "local/qwen2.5:0.5b"));
    const openai = await post("/v1/chat/completions", {
      model: "hf.co/tandem-tests/Chat-GGUF:Q8_0",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(openai.status, 200);
  });

  it("keeps the pulled names across a restart", async () => {
    await tandem.close();
    tandem = await startTandem(CONFIG, { env: { HF_ENDPOINT: hub.url }, dataDir: tandem.dataDir });
    const ollama = new Ollama({ host: tandem.url });
    const chatted = await ollama.chat({ model: "qwen2.5:0.5b", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(chatted.message.content, "Hello from tandem.");
    assert.equal((await ollama.show({ model: "hf.co/tandem-tests/Chat-GGUF:Q8_0" })).details.format, "gguf");
  });

  it("deletes the model by its pulled name, and that name is then unknown", async () => {
    const deleted = await fetch(`${tandem.url}/api/delete`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tandem-tests/Other-GGUF" }),
    });
    assert.equal(deleted.status, 200);
    assert.equal((await post("/api/show", { model: "tandem-tests/Other-GGUF" })).status, 404);
    assert.equal((await post("/api/show", { model: "other-Q4_K_M" })).status, 404);
  });
});

describe("a streamed pull of a name no pull takes", () => {
  it("is a 400 in Ollama's error shape, before any progress line", async () => {
    const refused = await post("/api/pull", { model: "/etc/passwd" });
    assert.equal(refused.status, 400);
    const body = (await refused.json()) as { error: string };
    assert.match(body.error, /is a file on this machine/);
    assert.deepEqual(Object.keys(body), ["error"]);
  });

  it("keeps the status of an unknown alias (as `stream: false` does) and fetches nothing", async () => {
    const before = hub.requests.length;
    const streamed = await post("/api/pull", { model: "no-such-alias" });
    const whole = await post("/api/pull", { model: "no-such-alias", stream: false });
    assert.equal(streamed.status, whole.status);
    assert.notEqual(streamed.status, 200);
    assert.equal(hub.requests.length, before);
  });
});
