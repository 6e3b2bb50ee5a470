/**
 * A local model's conversation is fitted to its window by its own count: its tokenizer and chat
 * template, not the GPT tokenizer's estimate. Llama-2's vocabulary needs far more tokens than
 * cl100k for text that is not English, so a conversation the estimate says fits is over the
 * window: the older turns must be left out (Responses' `truncation: "auto"`, chat completions'
 * fitting) rather than the engine refusing it as too long.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { estimateInputTokens } from "../../src/context/estimate-input-tokens.js";
import type { Provider } from "../../src/core/index.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { sharedModel } from "../support/local-models.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let client: OpenAI;
let cloud: FakeOpenAIUpstream;
/** The requests the local engine was asked to count. */
let engineCounts = 0;

const LONG = "Grüße aus München: def f(x): return x**2 # 数据 ".repeat(8);
/** Three long older turns and a short new one. */
const MESSAGES = [
  ...[0, 1, 2].flatMap((i) => [
    { role: "user" as const, content: `turn ${i} ${LONG}` },
    { role: "assistant" as const, content: "ok" },
  ]),
  { role: "user" as const, content: "hello" },
];
const WINDOW = 512;
const MAX_OUTPUT = 16;

before(async () => {
  cloud = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem({
    providers: {
      // The same window as the local model's: its conversation fits by the GPT tokenizer, as the cloud model counts.
      cloud: { kind: "openai", baseUrl: cloud.url, models: { gpt: { id: "gpt-4o-mini", contextWindow: WINDOW } } },
      local: {
        kind: "llamacpp",
        threads: 1,
        models: { llama: { path: sharedModel("llama-2-tiny-random.gguf"), contextSize: WINDOW } },
      },
    },
    routes: {
      // The engine's start and the model's load count in the first-token limit.
      patient: { tiers: ["local/llama"], timeouts: { firstTokenMs: 60_000, idleMs: 60_000, totalMs: 120_000 } },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const local = tandem.server.catalog.slots.get("local")?.provider as Provider;
  const countTokens = local.countTokens?.bind(local);
  assert.ok(countTokens);
  local.countTokens = (...args) => {
    engineCounts++;
    return countTokens(...args);
  };
});

after(async () => {
  await tandem?.close();
  await cloud?.close();
});

describe("a local model's conversation fitted by its own count", () => {
  it("is one the GPT estimate says fits and the model's own count does not", async () => {
    const estimate = await estimateInputTokens({
      model: "patient",
      stream: false,
      messages: MESSAGES.map((m) => ({ role: m.role, content: [{ type: "text" as const, text: m.content }] })),
    });
    assert.ok(estimate + MAX_OUTPUT < WINDOW, `estimated ${estimate}`);
    const counted = await client.responses.inputTokens.count({ model: "patient", input: MESSAGES });
    assert.ok(counted.input_tokens + MAX_OUTPUT > WINDOW, `the model counts ${counted.input_tokens}`);
  });

  it('Responses with truncation: "auto": the older turns are left out, and the answer says so', async () => {
    const { data, response } = await client.responses
      .create({ model: "patient", input: MESSAGES, max_output_tokens: MAX_OUTPUT, truncation: "auto", store: false })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /conversation fitted to local\/llama's 512-token window: \d+ older message\(s\) left out/,
    );
    // What the model read: within its window with room for the answer.
    assert.ok((data.usage?.input_tokens ?? Number.POSITIVE_INFINITY) + MAX_OUTPUT <= WINDOW, JSON.stringify(data.usage));
  });

  it("chat completions: always fitted, so the same conversation is answered", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "patient", messages: MESSAGES, max_tokens: MAX_OUTPUT })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /conversation fitted to local\/llama's 512-token window/);
    assert.ok((data.usage?.prompt_tokens ?? Number.POSITIVE_INFINITY) + MAX_OUTPUT <= WINDOW, JSON.stringify(data.usage));
  });

  it("an output limit at or over the window (Claude Code's 32000) cuts older turns and runs the answer to the window's end", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "patient", messages: MESSAGES, max_tokens: 32_000 })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /conversation fitted to local\/llama's 512-token window: \d+ older message\(s\) left out/,
    );
    const usage = data.usage;
    assert.ok(usage && usage.prompt_tokens + usage.completion_tokens <= WINDOW, JSON.stringify(usage));
    // A short conversation is not cut for such a limit: it fits the window as it is.
    const short = await client.chat.completions
      .create({ model: "patient", messages: [{ role: "user", content: "Hi" }], max_tokens: 32_000 })
      .withResponse();
    assert.equal(short.response.status, 200);
    assert.equal(short.response.headers.get("x-tandem-degraded"), "false");
  });

  it('Responses with truncation: "disabled": still refused as too long, in OpenAI\'s words', async () => {
    await assert.rejects(
      client.responses.create({ model: "patient", input: MESSAGES, max_output_tokens: MAX_OUTPUT, store: false }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
    );
  });

  it("a short conversation is not counted by the engine, and a cloud target's never is", async () => {
    const before = engineCounts;
    const short = await client.chat.completions.create({
      model: "patient",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: MAX_OUTPUT,
    });
    assert.ok(short.choices[0]);
    const { response } = await client.chat.completions
      .create({ model: "cloud/gpt", messages: MESSAGES, max_tokens: MAX_OUTPUT })
      .withResponse();
    assert.equal(response.status, 200);
    // Fitted by the GPT tokenizer's count, as before: it fits, nothing is cut.
    assert.equal(response.headers.get("x-tandem-degraded"), "false");
    assert.equal(engineCounts, before);
  });
});
