/**
 * Fill-in-the-middle (`suffix`) and raw prompts (`raw: true`) from Ollama clients, routed by what
 * each target can do: an Ollama upstream is sent the client's /api/generate body as it came (its
 * `suffix` and `raw` too); a target that can only chat (OpenAI-compatible) is skipped for a suffix,
 * and when no target of the route can insert the request is an Ollama 400 naming `suffix` before any
 * upstream is called. A raw prompt still reaches a chat-only target as one user message, with `raw`
 * named in x-tandem-warnings. Through the official `ollama` client against recording fake upstreams.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let ollamaUp: FakeOllamaUpstream;
let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: Ollama;

before(async () => {
  ollamaUp = await startFakeOllama({ models: ["qwen2.5-coder:latest"] });
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem({
    providers: {
      up: { kind: "ollama", baseUrl: ollamaUp.url, local: false, models: { coder: { id: "qwen2.5-coder:latest" } } },
      openai: { kind: "openai", baseUrl: openai.url, models: { gpt: { id: "gpt-4o-mini" } } },
    },
    routes: {
      "chat-then-ollama": { tiers: [["openai/gpt"], ["up/coder"]], ...fast },
      "chat-only": { tiers: [["openai/gpt"]], ...fast },
    },
  });
  client = new Ollama({ host: tandem.url, headers: { "x-tandem-sensitivity": "public" } });
});

after(async () => {
  await tandem?.close();
  await Promise.all([ollamaUp?.close(), openai?.close()]);
});

function clear(): void {
  ollamaUp.requests.length = 0;
  openai.requests.length = 0;
}

async function post(path: string, body: object): Promise<Response> {
  return fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tandem-sensitivity": "public" },
    body: JSON.stringify(body),
  });
}

const FIM = {
  prompt: "def add(a, b):\n    ",
  suffix: "\n\nprint(add(1, 2))\n",
  options: { temperature: 0, num_predict: 32, stop: ["\n\n"] },
  keep_alive: "5m",
};

describe("Ollama /api/generate with a suffix", () => {
  it("reaches an Ollama upstream as sent (suffix, options, keep_alive), the chat-only target before it skipped", async () => {
    clear();
    ollamaUp.script(() => ({ kind: "text", text: "return a + b", usage: { input: 14, output: 5 } }));
    const sent = { model: "chat-then-ollama", ...FIM, stream: false };
    const res = await post("/api/generate", sent);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(openai.requests.filter((r) => r.method === "POST").length, 0, "the chat-only target was not called");
    const received = ollamaUp.requests.find((r) => r.method === "POST");
    assert.equal(received?.path, "/api/generate");
    assert.deepEqual(received?.body, { ...sent, model: "qwen2.5-coder:latest", stream: true });
    assert.equal(res.headers.get("x-tandem-target"), "up/coder");
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /openai\/gpt.*cannot fill in the middle/);
    assert.equal(res.headers.get("x-tandem-warnings"), null, "nothing was left out");
    assert.equal(JSON.parse(text).response, "return a + b");
  });

  it("streams through the official client, the suffix in the upstream's body", async () => {
    clear();
    ollamaUp.script(() => ({ kind: "text", text: "return a + b", usage: { input: 14, output: 5 } }));
    const stream = await client.generate({ model: "up/coder", prompt: FIM.prompt, suffix: FIM.suffix, stream: true });
    let answer = "";
    for await (const part of stream) answer += part.response;
    assert.equal(answer, "return a + b");
    const received = ollamaUp.requests.find((r) => r.method === "POST")?.body as Record<string, unknown>;
    assert.equal(received.suffix, FIM.suffix);
    assert.equal(received.prompt, FIM.prompt);
  });

  it("is an Ollama 400 naming suffix when no target of the route can insert, and no upstream is called", async () => {
    clear();
    const error = await client.generate({ model: "chat-only", prompt: FIM.prompt, suffix: FIM.suffix }).then(
      () => assert.fail("answered"),
      (err: { status_code?: number; error?: string; message: string }) => err,
    );
    assert.equal(error.status_code, 400);
    assert.match(error.message, /'suffix'.*fill-in-the-middle.*openai\/gpt/);
    assert.equal(openai.requests.filter((r) => r.method === "POST").length, 0);

    // The body as Ollama's errors are: {"error": "..."}, no other field.
    const res = await post("/api/generate", { model: "openai/gpt", prompt: "a", suffix: "b" });
    assert.equal(res.status, 400);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.match(String(body.error), /suffix/);
  });

  it("an empty suffix is no suffix: a chat-only target answers it", async () => {
    clear();
    const res = await post("/api/generate", { model: "chat-only", prompt: "Hi", suffix: "", stream: false });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-tandem-target"), "openai/gpt");
  });
});

describe("Ollama /api/generate with raw: true", () => {
  it("reaches an Ollama upstream as sent", async () => {
    clear();
    const sent = { model: "up/coder", prompt: "<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>", raw: true, stream: false };
    const res = await post("/api/generate", sent);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(ollamaUp.requests.find((r) => r.method === "POST")?.body, {
      ...sent,
      model: "qwen2.5-coder:latest",
      stream: true,
    });
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });

  it("reaches a chat-only target as one user message, raw named in x-tandem-warnings", async () => {
    clear();
    const res = await post("/api/generate", { model: "chat-only", prompt: "Once upon a time", raw: true, stream: false });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = openai.requests.find((r) => r.method === "POST")?.body as { messages: unknown[] };
    assert.deepEqual(sent.messages, [{ role: "user", content: "Once upon a time" }]);
    assert.equal(res.headers.get("x-tandem-warnings"), "raw not sent to openai/gpt");
  });
});
