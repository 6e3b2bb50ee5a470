/**
 * Several choices on the embedded engine, on a real model that samples (stories260K), through the
 * official openai SDK: chat's `n` and legacy completions' prompts × `n` are fanned out, one request
 * each. Unseeded, each choice (and each request) samples afresh, so the choices differ; with a seed,
 * each choice has a seed of its own, so they differ and the whole answer comes again. Ollama's
 * `seed: -1` is random. (The choices' shapes: local-chat-choices-and-custom-tools.test.ts and
 * completions-batch.test.ts; the seed itself: test/providers/llamacpp/engine.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        // 2 + 6 = 8 requests at most, answering or waiting: fewer than a request's 20 choices.
        parallel: 2,
        maxQueue: 6,
        models: { stories: { path: sharedModel("stories260K.gguf"), contextSize: 512 } },
      },
    },
    routes: {
      // One thread writes the choices in turn: no test here is about the first-token limit.
      stories: { tiers: ["local/stories"], timeouts: PATIENT_TIMEOUTS },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  await loadLocalModel(tandem, "local/stories");
});

after(async () => {
  await tandem?.close();
});

const ONCE: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Once upon a time" }];
/** Long enough that two answers sampled apart cannot come out alike by chance. */
const SAMPLED = { model: "stories", messages: ONCE, max_tokens: 30, temperature: 1 } as const;

const texts = (completion: OpenAI.ChatCompletion) => completion.choices.map((c) => c.message.content ?? "");

describe("n > 1 on the embedded engine: choices that differ", () => {
  it("unseeded, whole: every choice its own sample, and new ones the next time", async () => {
    const first = texts(await client.chat.completions.create({ ...SAMPLED, n: 3 }));
    const again = texts(await client.chat.completions.create({ ...SAMPLED, n: 3 }));
    assert.equal(new Set(first).size, 3, JSON.stringify(first));
    assert.equal(new Set([...first, ...again]).size, 6, JSON.stringify([first, again]));
  });

  it("unseeded, streamed: every choice its own sample", async () => {
    const stream = await client.chat.completions.create({ ...SAMPLED, n: 3, stream: true });
    const streamed = ["", "", ""];
    for await (const chunk of stream) for (const choice of chunk.choices) streamed[choice.index] += choice.delta.content ?? "";
    assert.ok(
      streamed.every((text) => text.length > 0),
      JSON.stringify(streamed),
    );
    assert.equal(new Set(streamed).size, 3, JSON.stringify(streamed));
  });

  it("with a seed: the choices differ, and the same seed gives the same answer again, choice 0 the answer of n: 1", async () => {
    const first = texts(await client.chat.completions.create({ ...SAMPLED, n: 3, seed: 11 }));
    const again = texts(await client.chat.completions.create({ ...SAMPLED, n: 3, seed: 11 }));
    assert.equal(new Set(first).size, 3, JSON.stringify(first));
    assert.deepEqual(again, first);
    const alone = texts(await client.chat.completions.create({ ...SAMPLED, seed: 11 }));
    assert.deepEqual(alone, first.slice(0, 1));
  });

  it("a model saved with a seed (Ollama create): its choices differ too, and repeat", async () => {
    const created = await fetch(`${tandem.url}/api/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "seeded", from: "local/stories", parameters: { seed: 11 }, stream: false }),
    });
    assert.equal(created.status, 200, await created.text());
    const seeded = { ...SAMPLED, model: "local/seeded", n: 3 };
    const first = texts(await client.chat.completions.create(seeded));
    const again = texts(await client.chat.completions.create(seeded));
    assert.equal(new Set(first).size, 3, JSON.stringify(first));
    assert.deepEqual(again, first);
    // The saved seed is the client's seed 11 for every choice: the same answers.
    assert.deepEqual(texts(await client.chat.completions.create({ ...SAMPLED, n: 3, seed: 11 })), first);
  });

  it("legacy completions, several prompts and n with a seed: each prompt's choices differ, and repeat", async () => {
    const ask = { model: "stories", prompt: ["Once upon", "The cat"], n: 2, max_tokens: 30, temperature: 1, seed: 5 };
    const first = (await client.completions.create(ask)).choices.map((c) => c.text);
    const again = (await client.completions.create(ask)).choices.map((c) => c.text);
    assert.equal(first.length, 4);
    assert.notEqual(first[0], first[1], JSON.stringify(first));
    assert.notEqual(first[2], first[3], JSON.stringify(first));
    assert.deepEqual(again, first);
  });
});

describe("more choices than the model's slots and queue (2 + 6) on the embedded engine", () => {
  it("n: 20 is served in turn, whole and streamed, every choice in its place", async () => {
    const whole = await client.chat.completions.create({ ...SAMPLED, max_tokens: 8, n: 20 });
    assert.deepEqual(
      whole.choices.map((c) => c.index),
      Array.from({ length: 20 }, (_, i) => i),
    );
    for (const choice of whole.choices) assert.ok(choice.message.content, JSON.stringify(choice));
    assert.equal(whole.usage?.completion_tokens, 20 * 8);

    const stream = await client.chat.completions.create({ ...SAMPLED, max_tokens: 8, n: 20, stream: true });
    const finishes: (string | null)[] = Array.from({ length: 20 }, () => null);
    for await (const chunk of stream) for (const choice of chunk.choices) finishes[choice.index] ??= choice.finish_reason;
    assert.deepEqual(
      finishes,
      Array.from({ length: 20 }, () => "length"),
    );
  });

  it("legacy completions, 10 prompts × n: 2, each choice answering its prompt", async () => {
    const prompts = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    const data = await client.completions.create({ model: "stories", prompt: prompts, n: 2, max_tokens: 5, echo: true });
    assert.equal(data.choices.length, 20);
    for (const choice of data.choices) assert.ok(choice.text.startsWith(prompts[Math.floor(choice.index / 2)] as string));
  });

  it("leaves room in the queue for another client meanwhile (the choices take 4 places of 6)", async () => {
    const [choices, other] = await Promise.all([
      client.chat.completions.create({ ...SAMPLED, max_tokens: 30, n: 20 }),
      sleep(50).then(() => client.chat.completions.create({ ...SAMPLED, max_tokens: 5 })),
    ]);
    assert.equal(choices.choices.length, 20);
    assert.ok(other.choices[0]?.message.content);
  });
});

describe("Ollama's seed -1 on the embedded engine", () => {
  it("is random: two requests at once (the same second) answer differently", async () => {
    const generate = async () => {
      const res = await fetch(`${tandem.url}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "stories",
          prompt: "Once upon a time",
          stream: false,
          options: { num_predict: 30, temperature: 1.5, seed: -1 },
        }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { response: string }).response;
    };
    const [a, b] = await Promise.all([generate(), generate()]);
    assert.notEqual(a, b);
  });
});
