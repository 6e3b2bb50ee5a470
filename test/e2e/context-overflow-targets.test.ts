/**
 * How a target's window is kept, through a real tandem: the room kept for the answer is the output
 * limit the target is really sent (an Anthropic target's max_tokens with the thinking budget added),
 * and an upstream that reports an overflow in its own words (Anthropic's input + max_tokens, vLLM,
 * llama-server) makes the route move on to a bigger window, and tells an OpenAI client
 * `context_length_exceeded`, as OpenAI's own code does.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { errorBody, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let claude: FakeAnthropic;
let compat: FakeOpenAIUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

const words = (n: number, tag: string) => `${tag} ${Array.from({ length: n }, (_, i) => `w${i}`).join(" ")}`;

const ANTHROPIC_OVERFLOW =
  "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length or `max_tokens` and try again";
const VLLM_OVERFLOW = {
  object: "error",
  message:
    "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens (2000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
  type: "BadRequestError",
  param: null,
  code: 400,
};
const LLAMA_SERVER_OVERFLOW = {
  error: {
    code: 400,
    message: "the request exceeds the available context size, try increasing it",
    type: "exceed_context_size_error",
    n_prompt_tokens: 5000,
    n_ctx: 4096,
  },
};

before(async () => {
  [claude, compat] = await Promise.all([
    startFakeAnthropic({ models: ["claude-w36", "claude-full", "claude-big"] }),
    startFakeOpenAI({ models: ["vllm", "llamasrv", "big", "small"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        ant: {
          kind: "anthropic",
          baseUrl: claude.url,
          local: false,
          apiKeys: ["env:K"],
          models: {
            "claude-w36": { id: "claude-w36", contextWindow: 3600 },
            "claude-full": { id: "claude-full", contextWindow: 200_000 },
            "claude-big": { id: "claude-big", contextWindow: 400_000 },
          },
        },
        oai: {
          kind: "openai",
          baseUrl: compat.url,
          local: false,
          models: { vllm: {}, llamasrv: {}, big: {}, small: { contextWindow: 600 } },
        },
      },
      routes: {
        r_antmax: { tiers: ["ant/claude-full", "ant/claude-big"] },
        r_vllm: { tiers: ["oai/vllm", "oai/big"] },
        r_llamasrv: { tiers: ["oai/llamasrv", "oai/big"] },
      },
    },
    { env: { K: "sk-ant-test" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([claude?.close(), compat?.close()]);
});

beforeEach(() => {
  claude.requests.length = 0;
  compat.requests.length = 0;
  claude.script((request) => {
    const model = (request.body as { model?: string }).model;
    if (model === "claude-full")
      return { kind: "error", status: 400, body: errorBody("invalid_request_error", ANTHROPIC_OVERFLOW) };
    return { kind: "text", text: `Hello from ${model}` };
  });
  compat.script((request) => {
    const model = (request.body as { model?: string }).model;
    if (model === "vllm") return { kind: "error", status: 400, body: VLLM_OVERFLOW };
    if (model === "llamasrv") return { kind: "error", status: 400, body: LLAMA_SERVER_OVERFLOW };
    return { kind: "text", text: `Hello from ${model}` };
  });
});

describe("an upstream's own overflow error", () => {
  it("Anthropic's 'input length and max_tokens exceed context limit' moves the route on to the bigger window", async () => {
    const { data, response } = await anthropic.messages
      .create({ model: "r_antmax", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(data.model, "ant/claude-big");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /context_length_exceeded/);
  });

  for (const [route, target] of [
    ["r_vllm", "vllm"],
    ["r_llamasrv", "llamasrv"],
  ] as const) {
    it(`${target}'s overflow moves the route on, and is context_length_exceeded to a client naming the target`, async () => {
      const { data, response } = await openai.chat.completions
        .create({ model: route, messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, "Hello from big");
      assert.match(response.headers.get("x-tandem-degraded") ?? "", /context_length_exceeded/);
      await assert.rejects(
        openai.chat.completions.create({ model: `oai/${target}`, messages: [{ role: "user", content: "hi" }] }),
        (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
      );
      await assert.rejects(
        openai.responses.create({ model: `oai/${target}`, input: "hi" }),
        (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
      );
    });
  }

  it("Anthropic's overflow reaches a Responses client as OpenAI's context_length_exceeded", async () => {
    await assert.rejects(
      openai.responses.create({ model: "ant/claude-full", input: "hi", max_output_tokens: 16 }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
    );
  });
});

describe("the room kept for the answer", () => {
  it("is the max_tokens an Anthropic target is sent with thinking (the budget added), not the client's own limit", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...[0, 1, 2, 3].flatMap((i) => [
        { role: "user" as const, content: words(150, `q${i}`) },
        { role: "assistant" as const, content: `a${i}` },
      ]),
      { role: "user", content: "newest" },
    ];
    const { response } = await openai.chat.completions
      .create({ model: "ant/claude-w36", messages, max_completion_tokens: 1100, reasoning_effort: "low" })
      .withResponse();
    assert.equal(response.status, 200);
    const sent = claude.requests.at(-1)?.body as {
      max_tokens: number;
      thinking?: { budget_tokens: number };
      messages: unknown[];
    };
    assert.ok(sent.thinking, "thinking is sent");
    assert.equal(sent.max_tokens, 1100 + (sent.thinking?.budget_tokens ?? 0));
    // The whole history (about 650 tokens) fits beside 1100 but not beside what is sent: older turns cut.
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /fitted to ant\/claude-w36's 3600-token window: \d+ older message\(s\) left out/,
    );
    assert.ok(sent.messages.length < messages.length, `${sent.messages.length} messages sent`);
  });
});

describe("a fitted same-wire chat completion", () => {
  it("is the client's own body with whole older messages cut out: every field of the kept ones as written", async () => {
    const body = {
      model: "oai/small",
      messages: [
        { role: "developer", content: "DEV" },
        ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [
          { role: "user", content: words(40, `q${i}`) },
          { role: "assistant", content: `a${i}` },
        ]),
        { role: "user", content: "final", name: "alice" },
      ],
      max_completion_tokens: 40,
      service_tier: "flex",
      store: false,
      prompt_cache_key: "k1",
    };
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(
      res.headers.get("x-tandem-degraded") ?? "",
      /fitted to oai\/small's 600-token window: \d+ older message\(s\) left out/,
    );
    const sent = compat.requests.at(-1)?.body as { messages: Record<string, unknown>[] } & Record<string, unknown>;
    assert.ok(sent.messages.length < body.messages.length);
    assert.deepEqual(sent.messages[0], { role: "developer", content: "DEV" });
    assert.deepEqual(sent.messages.at(-1), { role: "user", content: "final", name: "alice" });
    assert.equal(sent.messages[1]?.role, "user", "the kept history opens with a user turn");
    assert.equal(sent.service_tier, "flex");
    assert.equal(sent.prompt_cache_key, "k1");
    assert.equal(sent.max_completion_tokens, 40);
    // Each message kept is one of the client's, as written.
    for (const message of sent.messages) assert.ok(body.messages.some((m) => JSON.stringify(m) === JSON.stringify(message)));
  });
});
