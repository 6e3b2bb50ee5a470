/**
 * Ollama's /api/pull through tandem, against a loopback imitation of the Hugging Face hub: the
 * Ollama client pulls `hf.co/{repo}:{quant}` with progress, the model is served at once as
 * `local/<name>` and listed in /api/tags; errors reach the client in Ollama's shape.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

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
      {
        id: "tandem-tests/Chat-GGUF",
        files: [
          { path: "chat-Q4_K_M.gguf", content },
          { path: "README.md", content: Buffer.from("hi") },
        ],
      },
    ],
  });
  tandem = await startTandem({ providers: { local: { kind: "llamacpp", threads: 1 } } }, { env: { HF_ENDPOINT: hub.url } });
});

after(async () => {
  await tandem?.close();
  await hub?.close();
  await cleanup?.();
});

describe("POST /api/pull", () => {
  it("pulls with Ollama's progress stream, then serves the model as local/<name>", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const statuses: string[] = [];
    let completed = 0;
    let total = 0;
    for await (const part of await ollama.pull({ model: "hf.co/tandem-tests/Chat-GGUF:Q4_K_M", stream: true })) {
      statuses.push(part.status);
      if (part.total) {
        total = part.total;
        completed = part.completed;
      }
    }
    assert.equal(statuses[0], "pulling manifest");
    assert.ok(statuses.some((s) => /^pulling [0-9a-f]{12}$/.test(s)));
    assert.deepEqual(statuses.slice(-3), ["verifying sha256 digest", "writing manifest", "success"]);
    assert.ok(total > 0 && completed === total);

    const tags = await ollama.list();
    const name = tags.models.map((m) => m.name).find((n) => n.startsWith("local/"));
    assert.ok(name, `listed: ${tags.models.map((m) => m.name).join(", ")}`);
    const answer = await ollama.chat({ model: name, messages: [{ role: "user", content: "Hi" }] });
    assert.equal(answer.message.content, "Hello from tandem.");
  });

  it("answers a non-streamed pull with one status, and a missing repo with Ollama's error", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const again = await ollama.pull({ model: "hf.co/tandem-tests/Chat-GGUF:Q4_K_M", stream: false });
    assert.equal(again.status, "success");
    const missing = await fetch(`${tandem.url}/api/pull`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "hf.co/nobody/Nothing-GGUF", stream: false }),
    });
    // The hub answers 401 for a repo that does not exist or is private (it will not say which); so does tandem.
    assert.equal(missing.status, 401);
    const message = ((await missing.json()) as { error: string }).error;
    assert.match(message, /nobody\/Nothing-GGUF/);
    assert.match(message, /HF_TOKEN/);
    const streamed = await fetch(`${tandem.url}/api/pull`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "hf.co/nobody/Nothing-GGUF" }),
    });
    const lines = (await streamed.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { status?: string; error?: string });
    assert.equal(lines.at(-1)?.error !== undefined, true, "the stream ends with an error line");
  });
});
