/**
 * Legacy completions with several prompts, `n` and `best_of`, through the official openai SDK's
 * `client.completions.create`, on every target kind: an OpenAI-compatible upstream (which reports
 * token logprobs, so best_of ranks), an Anthropic upstream and an Ollama one (each prompt's choices
 * fanned out; Anthropic reports no logprobs, so best_of above n is a 400), and the embedded engine
 * on a tiny model (which reports them, so best_of ranks). Several prompts go where their most sensitive one may.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [openai, anthropic, ollama] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"] },
        ollama: { kind: "ollama", baseUrl: ollama.url, models: ["llama3.2:latest"], local: false },
        local: { kind: "llamacpp", threads: 1, models: { stories: { path: sharedModel("stories260K.gguf"), contextSize: 512 } } },
      },
      routes: {
        // Cloud first: a private prompt keeps the whole batch on the machine.
        "cloud-first": { tiers: ["openai/gpt-4o-mini", "local/stories"], timeouts: PATIENT_TIMEOUTS },
        // One thread answers the choices one after another: no first-token limit is the test's subject.
        stories: { tiers: ["local/stories"], timeouts: PATIENT_TIMEOUTS },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  await loadLocalModel(tandem, "local/stories");
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close(), ollama?.close()]);
});

/**
 * What each fake answers: `<prompt>` in pieces of its words (the OpenAI fake reports one token per
 * piece). The prompt is the chat's user message, or an Ollama /api/generate body's raw `prompt`.
 */
function promptOf(request: RecordedRequest): string {
  const body = request.body as { messages?: { content: unknown }[]; prompt?: unknown };
  if (typeof body.prompt === "string") return body.prompt;
  const content = body.messages?.at(-1)?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return (content[0] as { text: string }).text;
  return "";
}

const posts = (fake: { requests: RecordedRequest[] }) => fake.requests.filter((r) => r.method === "POST");

beforeEach(() => {
  for (const fake of [openai, anthropic, ollama]) {
    fake.requests.length = 0;
    fake.script((request) => ({ kind: "text", text: `<${promptOf(request)}>`, usage: { input: 5, output: 2 } }));
  }
});

const CLOUD = {
  "an OpenAI-compatible upstream": { model: "openai/gpt-4o-mini", fake: () => openai },
  "an Anthropic upstream": { model: "anthropic/claude-haiku-4-5", fake: () => anthropic },
  "an Ollama upstream": { model: "ollama/llama3.2:latest", fake: () => ollama },
};

for (const [kind, target] of Object.entries(CLOUD)) {
  describe(`several prompts and n to ${kind}`, () => {
    it("whole: n choices per prompt, prompt-major, the usage summed", async () => {
      const data = await client.completions.create({ model: target.model, prompt: ["A", "B"], n: 2, echo: true });
      assert.deepEqual(
        data.choices.map((c) => [c.index, c.text]),
        [
          [0, "A<A>"],
          [1, "A<A>"],
          [2, "B<B>"],
          [3, "B<B>"],
        ],
      );
      assert.equal(posts(target.fake()).length, 4);
      assert.deepEqual(data.usage, { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 });
      assert.equal(data.model, target.model);
    });

    it("streamed: each chunk with its choice's index, one usage chunk with no choices", async () => {
      const stream = await client.completions.create({
        model: target.model,
        prompt: [[32], [33]],
        stream: true,
        stream_options: { include_usage: true },
      });
      const texts: string[] = ["", ""];
      const usages = [];
      for await (const chunk of stream) {
        if (chunk.usage) usages.push({ choices: chunk.choices, usage: chunk.usage });
        for (const choice of chunk.choices) texts[choice.index] += choice.text;
      }
      assert.deepEqual(texts, ["<A>", "<B>"]);
      assert.deepEqual(usages, [{ choices: [], usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 } }]);
    });
  });
}

describe("best_of", () => {
  it("on an OpenAI-compatible upstream: the candidates ranked by mean token logprob", async () => {
    let call = 0;
    // The fake's logprobs fall by 0.25 a token: the candidate in fewest pieces has the highest mean.
    const candidates = [["four", " pie", "ces", "!"], ["one"], ["two", " pieces"]];
    openai.script(() => {
      const chunks = candidates[call++ % 3] as string[];
      return { kind: "text", text: chunks.join(""), chunks, usage: { input: 5, output: chunks.length } };
    });
    const data = await client.completions.create({ model: "openai/gpt-4o-mini", prompt: "A", best_of: 3, n: 2 });
    assert.deepEqual(
      data.choices.map((c) => [c.index, c.text, c.logprobs]),
      [
        [0, "one", null],
        [1, "two pieces", null],
      ],
    );
    assert.equal(posts(openai).length, 3);
    for (const post of posts(openai)) assert.equal((post.body as { logprobs?: unknown }).logprobs, true);
    assert.deepEqual(data.usage, { prompt_tokens: 15, completion_tokens: 7, total_tokens: 22 });
  });

  it("on an Anthropic upstream (no logprobs): a 400 naming best_of", async () => {
    await assert.rejects(
      client.completions.create({ model: "anthropic/claude-haiku-4-5", prompt: "A", best_of: 2 }),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError && err.param === "best_of" && /cannot report token logprobs/.test(err.message),
    );
  });

  it("streamed above n: a 400 naming best_of before any upstream is asked", async () => {
    await assert.rejects(
      client.completions.create({ model: "openai/gpt-4o-mini", prompt: "A", best_of: 2, stream: true }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "best_of",
    );
    assert.equal(posts(openai).length, 0);
  });
});

describe("on the embedded engine", () => {
  it("several prompts and n, whole and streamed", async () => {
    const whole = await client.completions.create({
      model: "stories",
      prompt: ["Once upon", "The cat"],
      n: 2,
      max_tokens: 4,
      temperature: 0,
    });
    assert.deepEqual(
      whole.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    for (const choice of whole.choices) assert.ok(choice.text.length > 0);
    assert.equal(whole.usage?.prompt_tokens !== undefined && whole.usage.prompt_tokens > 0, true);

    const stream = await client.completions.create({
      model: "stories",
      prompt: ["Once upon", "The cat"],
      max_tokens: 4,
      temperature: 0,
      stream: true,
    });
    const texts = ["", ""];
    for await (const chunk of stream) for (const choice of chunk.choices) texts[choice.index] += choice.text;
    assert.ok(
      texts.every((text) => text.length > 0),
      JSON.stringify(texts),
    );
  });

  it("best_of above n: ranked by the engine's token logprobs, every candidate counted", async () => {
    const data = await client.completions.create({ model: "stories", prompt: "Once", best_of: 2, max_tokens: 2, temperature: 1 });
    assert.equal(data.choices.length, 1);
    assert.ok((data.choices[0]?.text.length ?? 0) > 0);
    assert.equal(data.usage?.completion_tokens, 4);
  });
});

describe("privacy", () => {
  it("one private prompt keeps every prompt of the request on the machine", async () => {
    const data = await client.completions.create({
      model: "cloud-first",
      prompt: ["Once upon a time", "Write to alice.jones@example.com"],
      max_tokens: 3,
      temperature: 0,
    });
    assert.equal(data.choices.length, 2);
    assert.equal(posts(openai).length, 0);
    assert.equal(data.model, "local/stories");
  });

  it("public prompts go to the cloud target", async () => {
    const data = await client.completions.create({ model: "cloud-first", prompt: ["Once upon a time", "The cat"] });
    assert.equal(data.choices.length, 2);
    assert.equal(posts(openai).length, 2);
  });
});
