/**
 * Fill-in-the-middle (`suffix`) and raw prompts (Ollama's `raw: true`, OpenAI's legacy completions),
 * routed by what each target can do: an Ollama upstream is sent the client's /api/generate body as
 * it came (its `suffix` and `raw` too), and a legacy completion as /api/generate (`raw: true`, or the
 * `suffix` with `raw: false` so Ollama applies the model's FIM template); a target that can only chat
 * (OpenAI-compatible) is skipped for a suffix, and when no target of the route can insert the
 * request is a 400 naming `suffix`, in the client's dialect, before any upstream is called. A raw
 * prompt still reaches a chat-only target as one user message, with Ollama's `raw` named in
 * x-tandem-warnings. A suffix is classified and redacted as the prompt is. Through the official
 * `ollama` and `openai` clients against recording fake upstreams.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let ollamaUp: FakeOllamaUpstream;
let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: Ollama;
let openaiClient: OpenAI;

before(async () => {
  ollamaUp = await startFakeOllama({ models: ["qwen2.5-coder:latest"] });
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  anthropic = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem(
    {
      providers: {
        up: { kind: "ollama", baseUrl: ollamaUp.url, local: false, models: { coder: { id: "qwen2.5-coder:latest" } } },
        openai: { kind: "openai", baseUrl: openai.url, models: { gpt: { id: "gpt-4o-mini" } } },
        claude: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"], models: { haiku: { id: "claude-haiku-4-5" } } },
      },
      routes: {
        "chat-then-ollama": { tiers: [["openai/gpt"], ["up/coder"]], ...fast },
        "chat-only": { tiers: [["openai/gpt"]], ...fast },
        "claude-then-ollama": { tiers: [["claude/haiku"], ["up/coder"]], ...fast },
        "redact-up": { tiers: [["up/coder"]], privacy: "redact", ...fast },
        "up-whole": { tiers: [["up/coder"]], streamUpstream: false, ...fast },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new Ollama({ host: tandem.url, headers: { "x-tandem-sensitivity": "public" } });
  openaiClient = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([ollamaUp?.close(), openai?.close(), anthropic?.close()]);
});

function clear(): void {
  ollamaUp.requests.length = 0;
  openai.requests.length = 0;
  anthropic.requests.length = 0;
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

  it("skips an Anthropic target too, for the Ollama upstream behind it", async () => {
    clear();
    ollamaUp.script(() => ({ kind: "text", text: "return a + b" }));
    const res = await post("/api/generate", { model: "claude-then-ollama", ...FIM, stream: false });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-tandem-target"), "up/coder");
    assert.equal(anthropic.requests.filter((q) => q.method === "POST").length, 0);
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

  it("reaches an Anthropic target as one user message, raw named in x-tandem-warnings", async () => {
    clear();
    const res = await post("/api/generate", { model: "claude/haiku", prompt: "Once upon a time", raw: true, stream: false });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = anthropic.requests.find((q) => q.method === "POST")?.body as { messages: unknown[] };
    assert.deepEqual(sent.messages, [{ role: "user", content: [{ type: "text", text: "Once upon a time" }] }]);
    assert.equal(res.headers.get("x-tandem-warnings"), "raw not sent to claude/haiku");
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

describe("OpenAI legacy completions", () => {
  it("with a suffix reach an Ollama upstream as /api/generate with prompt, suffix and raw false, the chat-only target skipped", async () => {
    clear();
    ollamaUp.script(() => ({ kind: "text", text: "return a + b", usage: { input: 14, output: 5 } }));
    const completion = await openaiClient.completions.create({
      model: "chat-then-ollama",
      prompt: FIM.prompt,
      suffix: FIM.suffix,
      max_tokens: 32,
      temperature: 0,
      stop: ["\n\n"],
    });
    assert.equal(completion.choices[0]?.text, "return a + b");
    assert.equal(completion.usage?.prompt_tokens, 14);
    assert.equal(openai.requests.filter((r) => r.method === "POST").length, 0);
    const received = ollamaUp.requests.find((r) => r.method === "POST");
    assert.equal(received?.path, "/api/generate");
    assert.deepEqual(received?.body, {
      model: "qwen2.5-coder:latest",
      prompt: FIM.prompt,
      suffix: FIM.suffix,
      raw: false,
      stream: true,
      options: { temperature: 0, num_predict: 32, stop: ["\n\n"] },
    });
  });

  it("with a suffix, asked whole of an Ollama upstream: /api/generate with stream false, its answer read", async () => {
    clear();
    ollamaUp.script(() => ({ kind: "text", text: "return a + b", usage: { input: 14, output: 5 } }));
    const completion = await openaiClient.completions.create({ model: "up-whole", prompt: FIM.prompt, suffix: FIM.suffix });
    assert.equal(completion.choices[0]?.text, "return a + b");
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.deepEqual(completion.usage, { prompt_tokens: 14, completion_tokens: 5, total_tokens: 19 });
    const received = ollamaUp.requests.find((q) => q.method === "POST");
    assert.equal(received?.path, "/api/generate");
    assert.equal((received?.body as { stream: boolean }).stream, false);
  });

  it("without a suffix reach an Ollama upstream as a raw /api/generate, each prompt of several its own", async () => {
    clear();
    ollamaUp.script((request) => ({ kind: "text", text: `after ${(request.body as { prompt: string }).prompt}` }));
    const completion = await openaiClient.completions.create({ model: "up/coder", prompt: ["Once upon", "In a land"] });
    assert.deepEqual(
      completion.choices.map((c) => c.text),
      ["after Once upon", "after In a land"],
    );
    const bodies = ollamaUp.requests.filter((r) => r.method === "POST").map((r) => r.body as Record<string, unknown>);
    assert.deepEqual(bodies.map((b) => [b.prompt, b.raw, "suffix" in b]).sort(), [
      ["In a land", true, false],
      ["Once upon", true, false],
    ]);
    assert.ok(ollamaUp.requests.filter((q) => q.method === "POST").every((q) => q.path === "/api/generate"));
  });

  it("with a suffix are an OpenAI 400 naming suffix when no target of the route can insert", async () => {
    clear();
    const error = await openaiClient.completions.create({ model: "chat-only", prompt: FIM.prompt, suffix: FIM.suffix }).then(
      () => assert.fail("answered"),
      (err: unknown) => err,
    );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, "suffix");
    assert.match(error.message, /fill-in-the-middle.*openai\/gpt/);
    assert.equal(openai.requests.filter((q) => q.method === "POST").length, 0);
  });

  it("without a suffix reach a chat-only target as one user message, nothing named", async () => {
    clear();
    const res = await post("/v1/completions", { model: "chat-only", prompt: "Once upon a time" });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = openai.requests.find((q) => q.method === "POST")?.body as { messages: unknown[] };
    assert.deepEqual(sent.messages, [{ role: "user", content: "Once upon a time" }]);
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });

  it("a suffix is classified and redacted as the prompt is (a redacting route's Ollama upstream gets a placeholder)", async () => {
    clear();
    ollamaUp.script(() => ({ kind: "text", text: "ok" }));
    const res = await fetch(`${tandem.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "redact-up", prompt: "send_to(", suffix: ")  # alice@example.com" }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = ollamaUp.requests.find((q) => q.method === "POST")?.body as { suffix: string };
    assert.ok(!body.suffix.includes("alice@example.com"), body.suffix);
    assert.match(body.suffix, /^\) {2}# \S+/);
    assert.equal(res.headers.get("x-tandem-sensitivity"), "private");
  });
});
