/**
 * The embedded engine through a real tandem server, with the official OpenAI, Anthropic and Ollama
 * clients, on the real tiny models: answers streamed and not, embeddings, Ollama's model lifecycle
 * (/api/ps, keep_alive), status, and the engine dying mid-stream while a cloud tier takes over.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cloud: FakeUpstream;
const CLOUD_ANSWER = "and the cloud finished the story.";

before(async () => {
  cloud = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  cloud.script(() => ({ kind: "text", text: CLOUD_ANSWER, usage: { input: 20, output: 7 } }));
  tandem = await startTandem(
    {
      providers: {
        local: {
          kind: "llamacpp",
          threads: 1,
          models: {
            stories: { path: sharedModel("stories260K.gguf"), contextSize: 512 },
            tiny: { path: sharedModel("llama-2-tiny-random.gguf"), contextSize: 256 },
            solo: { path: sharedModel("llama-2-tiny-random.gguf"), contextSize: 256, parallel: 1 },
          },
        },
        cloud: { kind: "openai", baseUrl: cloud.url, apiKeys: ["env:CLOUD_KEY"] },
      },
      routes: {
        // No test here is about the first-token limit: the engine's start and a model's load count in it.
        private: { tiers: ["local/stories"], privacy: "local-only", timeouts: PATIENT_TIMEOUTS },
        hybrid: { tiers: ["local/tiny", "cloud/gpt-4o-mini"], timeouts: PATIENT_TIMEOUTS },
        spill: { tiers: ["local/solo", "cloud/gpt-4o-mini"], timeouts: PATIENT_TIMEOUTS },
      },
    },
    { env: { CLOUD_KEY: "sk-test" } },
  );
  // The first requests name local/stories directly (10 s to the first token): the engine's start and
  // the load come first, outside that limit.
  await loadLocalModel(tandem, "local/stories");
});

after(async () => {
  await tandem?.close();
  await cloud?.close();
});

describe("local engine through the server", () => {
  it("answers the OpenAI client, streamed and not, naming the local target", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({
        model: "local/stories",
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: 20,
        temperature: 0,
      })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "local/stories");
    assert.equal(data.choices[0]?.finish_reason, "length");
    assert.equal(data.usage?.completion_tokens, 20);
    const whole = data.choices[0]?.message.content ?? "";
    assert.match(whole, /[a-z]{2,}/);

    const stream = await client.chat.completions.create({
      model: "private",
      messages: [{ role: "user", content: "Once upon a time" }],
      max_tokens: 20,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let usage: { completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.delta.content) chunks++;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, whole, "greedy: the same answer streamed");
    assert.ok(chunks >= 10, `streamed token by token (${chunks} chunks)`);
    assert.equal(usage?.completion_tokens, 20);
  });

  it("answers the Anthropic client, streamed", async () => {
    const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const stream = client.messages.stream({
      model: "local/stories",
      max_tokens: 15,
      temperature: 0,
      messages: [{ role: "user", content: "Once upon a time" }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, "max_tokens");
    assert.equal(final.usage.output_tokens, 15);
    assert.equal(final.content[0]?.type, "text");
  });

  it("answers the Ollama client, embeds, lists loaded models in /api/ps and unloads with keep_alive 0", async () => {
    const ollama = new Ollama({ host: tandem.url });
    let text = "";
    for await (const part of await ollama.chat({
      model: "local/stories",
      messages: [{ role: "user", content: "Once upon a time" }],
      stream: true,
      options: { num_predict: 10, temperature: 0 },
      keep_alive: "10m",
    })) {
      text += part.message.content;
      if (part.done) assert.equal(part.eval_count, 10);
    }
    assert.ok(text.length > 0);
    const generated = await ollama.generate({
      model: "local/stories",
      prompt: "The cat",
      options: { num_predict: 5 },
      stream: false,
    });
    assert.equal(generated.eval_count, 5);

    const embedded = await ollama.embed({ model: "local/stories", input: ["a cat", "a dog"] });
    assert.equal(embedded.embeddings.length, 2);
    assert.equal(embedded.embeddings[0]?.length, 64);
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const vectors = await openai.embeddings.create({ model: "local/stories", input: "a cat", encoding_format: "float" });
    assert.equal(vectors.data[0]?.embedding.length, 64);
    // Of unit length, as OpenAI's, llama-server's and Ollama's /api/embed vectors are: the same vector
    // Ollama's client got.
    const openaiVector = vectors.data[0]?.embedding ?? [];
    assert.ok(Math.abs(Math.hypot(...openaiVector) - 1) < 1e-6, `norm ${Math.hypot(...openaiVector)}`);
    openaiVector.forEach((value, i) => {
      assert.ok(Math.abs(value - (embedded.embeddings[0]?.[i] ?? 0)) < 1e-6);
    });

    const ps = await ollama.ps();
    const entry = ps.models.find((m) => m.name === "local/stories");
    assert.ok(entry, "loaded");
    assert.equal(entry.details.format, "gguf");
    assert.equal(entry.details.family, "llama");
    assert.equal(entry.details.quantization_level, "F32");
    assert.ok(entry.size > 1_000_000);
    assert.ok(new Date(entry.expires_at).getTime() > Date.now() + 9 * 60_000, "keep_alive 10m");

    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      providers: { name: string; engine?: { running: boolean; engine: string }; loaded?: { name: string }[] }[];
    };
    const local = status.providers.find((p) => p.name === "local");
    assert.equal(local?.engine?.running, true);
    assert.match(local?.engine?.engine ?? "", /llama\.cpp/);
    assert.ok(local?.loaded?.some((m) => m.name === "stories"));

    const unloaded = await ollama.chat({ model: "local/stories", messages: [], keep_alive: 0 });
    assert.equal(unloaded.done_reason, "unload");
    assert.equal(
      (await ollama.ps()).models.some((m) => m.name === "local/stories"),
      false,
    );
  });

  it("a bad keep_alive is a 400 in Ollama's shape", async () => {
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "local/stories", messages: [], keep_alive: "soon" }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /keep_alive/);
  });

  it("token logprobs come from the engine, with no warning (more in local-logprobs)", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({
        model: "private",
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: 5,
        temperature: 0,
        logprobs: true,
        top_logprobs: 2,
      })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    const tokens = data.choices[0]?.logprobs?.content ?? [];
    assert.equal(tokens.length, 5);
    assert.ok(tokens.every((t) => t.logprob <= 0 && t.top_logprobs.length === 2));
    // An Ollama client's: top_logprobs 0 asks for no alternatives, so each token has its logprob and no top_logprobs.
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "private",
        messages: [{ role: "user", content: "Once upon a time" }],
        options: { num_predict: 5, temperature: 0 },
        stream: false,
        logprobs: true,
        top_logprobs: 0,
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-warnings"), null);
    const body = (await res.json()) as { logprobs?: { logprob: number; top_logprobs?: unknown }[] };
    assert.equal(body.logprobs?.length, 5);
    assert.ok(body.logprobs?.every((t) => t.logprob <= 0 && t.top_logprobs === undefined));
  });

  it("when the engine dies mid-stream, the stream continues on the cloud tier, marked degraded", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const local = tandem.server.catalog.slots.get("local")?.provider;
    assert.ok(local?.engineState);
    const stream = await client.chat.completions.create({
      model: "hybrid",
      messages: [{ role: "user", content: "Tell me a story" }],
      max_tokens: 100_000,
      stream: true,
    });
    let text = "";
    let killed = false;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (!killed && text.length > 20) {
        killed = true;
        process.kill(local.engineState().pid as number, "SIGKILL");
      }
    }
    assert.ok(killed);
    assert.ok(text.endsWith(CLOUD_ANSWER), "the cloud tier finished the answer");
    assert.equal(finish, "stop");
    // The server is fine and the engine comes back for the next request (the restart and reload
    // waited out first: the direct target's 10 s first-token limit is not the subject).
    await loadLocalModel(tandem, "local/tiny");
    const again = await client.chat.completions.create({
      model: "local/tiny",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 3,
    });
    assert.equal(again.usage?.completion_tokens, 3);
  });

  it("spills over to the next tier while the local model's slots are all busy", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ask = (max_tokens: number) =>
      client.chat.completions.create({ model: "spill", messages: [{ role: "user", content: "hi" }], max_tokens }).withResponse();
    const long = ask(3000);
    // Wait until the long request holds the only slot.
    const local = tandem.server.catalog.slots.get("local")?.provider;
    // (Its model loads first: on a loaded box that takes seconds; only a broken test waits the whole minute.)
    for (let i = 0; i < 6000 && local?.load?.("solo")?.active !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(local?.load?.("solo")?.active, 1, "the long request holds the slot");
    const spilled = await ask(5);
    assert.equal(spilled.response.headers.get("x-tandem-target"), "cloud/gpt-4o-mini");
    assert.match(spilled.response.headers.get("x-tandem-degraded") ?? "", /local\/solo: busy/);
    const first = await long;
    assert.equal(first.response.headers.get("x-tandem-target"), "local/solo");
    const after = await ask(5);
    assert.equal(after.response.headers.get("x-tandem-target"), "local/solo", "back to local once it is free");
  });
});
