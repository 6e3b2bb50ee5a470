/**
 * An adversarial pass over the embedded engine through the server, with the official SDKs, on the
 * real tiny stories model: the usage an answer reports when a stop sequence ends it (the sequence
 * spans tokens, which the engine generates and then drops) or when it fills the context window
 * (`max_tokens` far past the window), in each dialect; an Ollama client's unload (`keep_alive: 0`)
 * while another client's answer is being written; the request log's row of a request its client
 * left before the answer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { makeModelDir, writeLoopingModel } from "../support/gguf/index.js";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;
const MODEL = "local/stories";
const PROMPT = "Once upon a time";
const messages = [{ role: "user" as const, content: PROMPT }];
/**
 * Greedy sampling for the Anthropic client: the SDK's types no longer list `temperature`, which the
 * Messages API and tandem's Anthropic dialect still read (the engine's default samples at 0.8).
 */
const GREEDY: object = { temperature: 0 };
/** The prompt's size as the plain answer reports it: every other answer to the same prompt must say the same. */
let promptTokens: number;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  // "tick tock tick tock ...": an answer that runs as long as max_tokens lets it (thousands of tokens).
  await writeLoopingModel(join(made.dir, "loop.gguf"));
  tandem = await startTandem(
    {
      providers: {
        local: {
          kind: "llamacpp",
          threads: 1,
          models: {
            stories: { path: sharedModel("stories260K.gguf"), contextSize: 256 },
            loop: { path: join(made.dir, "loop.gguf"), contextSize: 4096 },
          },
        },
      },
      routes: { endless: { tiers: ["local/loop"], quality: { repetition: false } } },
    },
    { store: true },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
  await loadLocalModel(tandem, MODEL);
  const plain = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 0 });
  // Greedy stories260K: "is a small bird. Where is a small bird, ..." (the stop sequences below cut it).
  assert.match(plain.choices[0]?.message.content ?? "", /^is a small bird/);
  assert.equal(plain.choices[0]?.finish_reason, "length");
  promptTokens = plain.usage?.prompt_tokens ?? 0;
  assert.ok(promptTokens > 0);
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

describe("usage of a local answer ended by a stop sequence", () => {
  // "l bi" spans the tokens of "small" and " bird"; ". W" those of "." and " Where".
  for (const stop of ["l bi", ". W"]) {
    it(`counts the prompt alone as the prompt (stop ${JSON.stringify(stop)}), streamed and not`, async () => {
      const whole = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 0, stop });
      assert.equal(whole.choices[0]?.finish_reason, "stop");
      assert.ok(!whole.choices[0]?.message.content?.includes(stop));
      assert.equal(whole.usage?.prompt_tokens, promptTokens, "the stop sequence's tokens are not the prompt's");

      const stream = await openai.chat.completions.create({
        model: MODEL,
        messages,
        max_tokens: 30,
        temperature: 0,
        stop,
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      assert.equal(usage?.prompt_tokens, promptTokens);
    });
  }

  it("an answer the stop sequence ends before its first word is an empty answer, not a failure", async () => {
    // The answer begins "is a small bird": the client's stop sequence "is" leaves nothing of it.
    const whole = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 20, temperature: 0, stop: ["is"] });
    assert.equal(whole.choices[0]?.finish_reason, "stop");
    assert.equal(whole.choices[0]?.message.content, "");
    assert.equal(whole.usage?.prompt_tokens, promptTokens);

    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 20,
      messages,
      stop_sequences: ["is"],
      ...GREEDY,
    });
    assert.equal(message.stop_reason, "stop_sequence");
    assert.equal(message.stop_sequence, "is");
  });

  it("in the Anthropic and Ollama dialects too", async () => {
    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 30,
      messages,
      stop_sequences: ["l bi"],
      ...GREEDY,
    });
    assert.equal(message.stop_reason, "stop_sequence");
    assert.equal(message.stop_sequence, "l bi");
    const { input_tokens, cache_read_input_tokens } = message.usage;
    assert.equal(input_tokens + (cache_read_input_tokens ?? 0), promptTokens);

    const chat = await ollama.chat({ model: MODEL, messages, options: { num_predict: 30, stop: ["l bi"], temperature: 0 } });
    assert.equal(chat.done_reason, "stop");
    assert.equal(chat.prompt_eval_count, promptTokens);
  });
});

describe("usage of a local answer that fills the context window", () => {
  it("is truncated and still counts its prompt, streamed and not", async () => {
    const whole = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 100_000, temperature: 0 });
    assert.equal(whole.choices[0]?.finish_reason, "length");
    assert.equal(whole.usage?.prompt_tokens, promptTokens, "a cached prompt is still the prompt");
    assert.ok((whole.usage?.completion_tokens ?? 0) > 100);

    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 100_000,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      usage = chunk.usage ?? usage;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, "length");
    assert.equal(usage?.prompt_tokens, promptTokens);
    // Held from the turns before, but for its last token, which is evaluated again for the odds of the
    // answer's first token (llama-server counts it the same way).
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, promptTokens - 1, "the prompt was held from the turns before");
  });

  it("in the Responses and Ollama dialects too", async () => {
    const response = await openai.responses.create({ model: MODEL, input: PROMPT, max_output_tokens: 100_000, temperature: 0 });
    assert.equal(response.status, "incomplete");
    assert.equal(response.usage?.input_tokens, promptTokens);

    const generated = await ollama.generate({ model: MODEL, prompt: PROMPT, options: { num_predict: -1, temperature: 0 } });
    assert.equal(generated.done_reason, "length");
    assert.equal(generated.prompt_eval_count, promptTokens);
  });
});

describe("an Ollama unload of a model in use", () => {
  it("lets the answers it is writing finish, then unloads it", async () => {
    await loadLocalModel(tandem, "local/loop");
    const stream = await openai.chat.completions.create({
      model: "endless",
      messages: [{ role: "user", content: "Go" }],
      max_tokens: 3000,
      temperature: 0,
      stream: true,
    });
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunks++ === 2) {
        // Ollama's unload: an empty generate with keep_alive 0, answered at once.
        const unloaded = await ollama.generate({ model: "local/loop", prompt: "", keep_alive: 0 });
        assert.equal(unloaded.done_reason, "unload");
        const running = await ollama.ps();
        assert.ok(
          running.models.some((m) => m.name === "local/loop"),
          "a model writing an answer is still loaded",
        );
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, "length", "the answer in progress was not cut by the unload");
    assert.ok(chunks > 1000);
    // Its last request over, the model goes as asked.
    const deadline = Date.now() + 10_000;
    while ((await ollama.ps()).models.some((m) => m.name === "local/loop") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === "local/loop"), "unloaded once idle");
  });
});

describe("the request log of a request its client left", () => {
  it("says the client closed it, not that it was answered", async () => {
    const store = tandem.server.store;
    assert.ok(store);
    const before = (await store.queryRequests({ limit: 1 }))[0]?.id ?? 0;
    const controller = new AbortController();
    const pending = openai.chat.completions.create(
      { model: "endless", messages: [{ role: "user", content: "Go" }], max_tokens: 3000, temperature: 0 },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(pending, OpenAI.APIUserAbortError);
    let row: Awaited<ReturnType<typeof store.queryRequests>>[number] | undefined;
    const deadline = Date.now() + 10_000;
    while (!row && Date.now() < deadline) {
      row = (await store.queryRequests({ limit: 5 })).find((r) => r.id > before);
      if (!row) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(row, "the request has its row");
    assert.equal(row.status, 499, "no answer was sent: not a 200");
    assert.equal(row.errorCode, "canceled");
  });
});
