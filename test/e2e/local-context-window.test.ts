/**
 * A local model's context window is never cut silently. A prompt larger than the window is a
 * context-length error for a client that named the model, and on a route the next target answers
 * (said in x-tandem-degraded); an answer that runs to the end of the window stops there as
 * truncated, with the prompt tokens actually evaluated in its usage.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { makeModelDir, writeChatModel, writeLongAnswerModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cloud: FakeUpstream;
let cleanup: () => Promise<void>;
let openai: OpenAI;

/** About 1,000 words: several times a 256-token window. */
const LONG_PROMPT = Array.from({ length: 1000 }, (_, i) => `word${i % 97}`).join(" ");

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  await writeLongAnswerModel(join(made.dir, "long.gguf"), { tokenCount: 400 });
  cloud = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  cloud.script(() => ({ kind: "text", text: "From the cloud.", usage: { input: 4000, output: 4 } }));
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          chat: { path: join(made.dir, "chat.gguf"), contextSize: 256 },
          long: { path: join(made.dir, "long.gguf"), contextSize: 256 },
        },
      },
      cloud: { kind: "openai", baseUrl: cloud.url, local: true },
    },
    routes: { "local-first": { tiers: ["local/chat", "cloud/gpt-4o-mini"] } },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cloud?.close();
  await cleanup?.();
});

describe("a local model's context window", () => {
  it("a prompt larger than the window is a context-length error for the model named directly", async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: "local/chat", messages: [{ role: "user", content: LONG_PROMPT }] }),
      (err: unknown) =>
        err instanceof OpenAI.APIError &&
        err.status === 400 &&
        err.code === "context_length_exceeded" &&
        /256-token context window/.test(err.message),
    );
    // Legacy completions and embeddings have no `messages`: the error names their own field.
    await assert.rejects(
      openai.completions.create({ model: "local/chat", prompt: LONG_PROMPT, max_tokens: 5 }),
      (err: unknown) => err instanceof OpenAI.APIError && err.code === "context_length_exceeded" && err.param === "prompt",
    );
    await assert.rejects(
      openai.embeddings.create({ model: "local/chat", input: LONG_PROMPT }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.param === "input",
    );
    // The model still answers what fits.
    const ok = await openai.chat.completions.create({ model: "local/chat", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(ok.choices[0]?.message.content, "Hello from tandem.");
    assert.ok((ok.usage?.prompt_tokens ?? 0) > 0);
  });

  it("on a route, the local model is skipped before it is called and the next target answers, degraded", async () => {
    const before = cloud.requests.length;
    const { data, response } = await openai.chat.completions
      .create({ model: "local-first", messages: [{ role: "user", content: LONG_PROMPT }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "From the cloud.");
    assert.equal(response.headers.get("x-tandem-target"), "cloud/gpt-4o-mini");
    assert.equal(response.headers.get("x-tandem-attempts"), "1");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /^true.*local\/chat: unsuitable .*its window is 256/);
    assert.equal(cloud.requests.length, before + 1);
  });

  it("on a route, an image skips the text-only local model before it is called", async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: "local-first",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              {
                type: "image_url",
                image_url: {
                  url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
                },
              },
            ],
          },
        ],
      })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "From the cloud.");
    assert.equal(response.headers.get("x-tandem-attempts"), "1");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /local\/chat: unsuitable .*reads text only/);
  });

  it("a model named directly is still called (its own error decides)", async () => {
    await assert.rejects(
      openai.chat.completions.create({
        model: "local/chat",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }] }],
      }),
      (err: unknown) => err instanceof OpenAI.APIError && /reads text only/.test(err.message),
    );
  });

  it("an answer that reaches the end of the window stops there, truncated, streamed or not", async () => {
    const whole = await openai.chat.completions.create({ model: "local/long", messages: [{ role: "user", content: "Go" }] });
    assert.equal(whole.choices[0]?.finish_reason, "length");
    assert.match(whole.choices[0]?.message.content ?? "", /^w0 w1 w2/);
    assert.ok((whole.usage?.prompt_tokens ?? 0) > 0, "the prompt tokens evaluated are reported");
    assert.ok((whole.usage?.completion_tokens ?? 0) > 100);

    const stream = await openai.chat.completions.create({
      model: "local/long",
      messages: [{ role: "user", content: "Go again" }],
      stream: true,
    });
    let finish: string | null | undefined;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, "length");
  });
});
