/**
 * Ollama's load and unload requests (an /api/chat with no messages, an /api/generate with no prompt;
 * `keep_alive: 0` unloads: what `ollama stop` sends, and how clients preload) reach an Ollama
 * upstream as the client wrote them, but for the model, and the upstream's answer comes back. Before,
 * tandem answered them itself (`done_reason` load or unload) and the upstream never loaded or
 * unloaded anything. A target that keeps no model (an OpenAI-compatible API) is still only resolved.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let ollamaUp: FakeOllamaUpstream;
let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  [ollamaUp, openai] = await Promise.all([
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
  ]);
  tandem = await startTandem({
    providers: {
      oll: { kind: "ollama", baseUrl: ollamaUp.url, models: ["llama3.2:latest"] },
      oai: { kind: "openai", baseUrl: openai.url, models: ["gpt-4o-mini"] },
    },
    routes: { "remote-first": { tiers: ["oai/gpt-4o-mini", "oll/llama3.2:latest"] } },
  });
});

after(async () => {
  await tandem?.close();
  await Promise.all([ollamaUp?.close(), openai?.close()]);
});

beforeEach(() => {
  ollamaUp.requests.length = 0;
  openai.requests.length = 0;
});

/** POSTs JSON text as it is written, and reads the answer. */
async function post(path: string, text: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const posts = (fake: { requests: { method: string; path: string; body: unknown }[] }) =>
  fake.requests.filter((r) => r.method === "POST").map((r) => [r.path, r.body]);

describe("load and unload requests to an Ollama upstream", () => {
  it("`ollama stop` (generate, no prompt, keep_alive 0) unloads the model on the upstream", async () => {
    const res = await post("/api/generate", '{"model":"oll/llama3.2","keep_alive":0}');
    assert.equal(res.status, 200);
    assert.equal(res.json.done_reason, "unload");
    assert.equal(res.json.model, "oll/llama3.2:latest");
    assert.deepEqual(posts(ollamaUp), [["/api/generate", { model: "llama3.2:latest", keep_alive: 0 }]]);
  });

  it("a preload (chat, no messages) loads it there, with the client's keep_alive and options as written", async () => {
    const res = await post("/api/chat", '{"model":"oll/llama3.2","messages":[],"keep_alive":"10m","options":{"num_ctx":4096}}');
    assert.equal(res.status, 200);
    assert.equal(res.json.done_reason, "load");
    assert.deepEqual(res.json.message, { role: "assistant", content: "" });
    assert.deepEqual(posts(ollamaUp), [
      ["/api/chat", { model: "llama3.2:latest", messages: [], keep_alive: "10m", options: { num_ctx: 4096 } }],
    ]);
  });

  it("a route loads its first target that keeps models", async () => {
    const res = await post("/api/chat", '{"model":"remote-first"}');
    assert.equal(res.status, 200);
    assert.equal(res.json.done_reason, "load");
    assert.deepEqual(posts(ollamaUp), [["/api/chat", { model: "llama3.2:latest" }]]);
    assert.deepEqual(posts(openai), []);
  });

  it("a target that keeps no model is only resolved, as before", async () => {
    const res = await post("/api/generate", '{"model":"oai/gpt-4o-mini","keep_alive":0}');
    assert.equal(res.status, 200);
    assert.equal(res.json.done_reason, "unload");
    assert.deepEqual(posts(openai), []);
    assert.deepEqual(posts(ollamaUp), []);
  });
});
