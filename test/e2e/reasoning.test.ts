/**
 * Reasoning across dialects, through the official SDKs: each client's reasoning control reaches an
 * upstream on another wire in that upstream's terms, and the reasoning the upstream shows comes back
 * in the client's own events (Anthropic thinking blocks, chat completions `reasoning_content`,
 * Ollama `thinking`), streamed and whole. A signature goes back only to the Anthropic upstream that
 * made it; a thinking block no Anthropic upstream signed is left out on its way to one, with a
 * warning.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let deepseek: FakeOpenAIUpstream;
let claude: FakeAnthropic;
let ollamaUp: FakeOllamaUpstream;
let tandem: RunningTandem;
let anthropic: Anthropic;
let openai: OpenAI;
let ollama: Ollama;

const REASONING = "The user greets me. A short greeting back will do.";
const SIGNATURE = "EqQBCgIYAhIMsignedByTheUpstream";
const answer = () => ({ kind: "text" as const, text: "Hello!", reasoning: REASONING, signature: SIGNATURE });

before(async () => {
  [deepseek, claude, ollamaUp] = await Promise.all([
    startFakeOpenAI({ models: ["deepseek-reasoner"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["qwen3:latest"] }),
  ]);
  deepseek.script(answer);
  claude.script(answer);
  ollamaUp.script(answer);
  tandem = await startTandem(
    {
      providers: {
        deepseek: { kind: "openai", baseUrl: deepseek.url, models: ["deepseek-reasoner"] },
        // The same upstream read as DeepSeek's own API is by default: earlier reasoning goes back to it.
        dsk: { kind: "openai", baseUrl: deepseek.url, reasoningContent: true, models: ["deepseek-reasoner"] },
        claude: {
          kind: "anthropic",
          baseUrl: claude.url,
          apiKeys: ["env:UP_ANTHROPIC"],
          // `fit`: a small window, so a long conversation is fitted and goes the canonical way.
          models: { "claude-haiku-4-5": {}, fit: { id: "claude-haiku-4-5", contextWindow: 2400 } },
        },
        ollama: { kind: "ollama", baseUrl: ollamaUp.url, models: ["qwen3:latest"] },
      },
    },
    { env: { UP_ANTHROPIC: "sk-ant-upstream" } },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await Promise.all([deepseek?.close(), claude?.close(), ollamaUp?.close()]);
});

function lastBody(fake: { requests: RecordedRequest[] }): Record<string, unknown> {
  const last = fake.requests.filter((r) => r.method === "POST").at(-1);
  assert.ok(last, "the upstream saw a request");
  return last.body as Record<string, unknown>;
}

type Block = { type: string; thinking?: string; signature?: string; text?: string };

describe("Anthropic client -> OpenAI-compatible reasoning upstream (reasoning_content)", () => {
  const params = {
    model: "deepseek/deepseek-reasoner",
    max_tokens: 4000,
    thinking: { type: "enabled" as const, budget_tokens: 2048 },
    messages: [{ role: "user" as const, content: "Hi" }],
  };

  it("streamed: thinking as reasoning_effort upstream; reasoning_content back as a thinking block without a signature", async () => {
    const { data: stream, response } = await anthropic.messages.stream(params).withResponse();
    const message = await stream.finalMessage();
    assert.equal(lastBody(deepseek).reasoning_effort, "low");
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /thinking/);
    const [thinking, text] = message.content as Block[];
    assert.deepEqual(thinking, { type: "thinking", thinking: REASONING, signature: "" });
    assert.equal(text?.type, "text");
    assert.equal(text?.text, "Hello!");
  });

  it("whole: the same blocks", async () => {
    const message = await anthropic.messages.create(params);
    const [thinking, text] = message.content as Block[];
    assert.deepEqual(thinking, { type: "thinking", thinking: REASONING, signature: "" });
    assert.equal(text?.text, "Hello!");
  });

  it("without thinking enabled: no thinking block, as Anthropic answers", async () => {
    const { thinking: _, ...plain } = params;
    const message = await anthropic.messages.create(plain);
    assert.deepEqual(
      message.content.map((b) => b.type),
      ["text"],
    );
    const stream = anthropic.messages.stream(plain);
    assert.deepEqual(
      (await stream.finalMessage()).content.map((b) => b.type),
      ["text"],
    );
  });

  it("next turn to an Anthropic upstream: the unsigned thinking block is left out, with a warning", async () => {
    const first = await anthropic.messages.create(params);
    const { response } = await anthropic.messages
      .create({
        model: "claude/claude-haiku-4-5",
        max_tokens: 200,
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
          { role: "user", content: "And again?" },
        ],
      })
      .withResponse();
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning not sent to claude\/claude-haiku-4-5/);
    const sent = lastBody(claude).messages as Array<{ role: string; content: Block[] }>;
    assert.deepEqual(
      sent[1]?.content.map((b) => b.type),
      ["text"],
    );
  });

  it("an assistant turn that held only an unsigned thinking block is left out whole, not sent empty", async () => {
    const first = await anthropic.messages.create(params);
    const thinking = first.content.filter((b) => b.type === "thinking") as Anthropic.ContentBlockParam[];
    assert.equal(thinking.length, 1);
    await anthropic.messages.create({
      model: "claude/claude-haiku-4-5",
      max_tokens: 200,
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: thinking },
        { role: "user", content: "And again?" },
      ],
    });
    const sent = lastBody(claude).messages as Array<{ role: string; content: unknown }>;
    assert.deepEqual(
      sent.map((m) => m.role),
      ["user", "user"],
    );
  });
});

describe("Claude Code's tool loop on a thinking model that wants its reasoning back (DeepSeek's reasoning_content)", () => {
  const tools = [{ name: "get_time", description: "The time", input_schema: { type: "object" as const, properties: {} } }];
  const turn = (model: string) => ({
    model,
    max_tokens: 4000,
    thinking: { type: "enabled" as const, budget_tokens: 2048 },
    tools,
    messages: [{ role: "user" as const, content: "What time is it?" }],
  });
  /** The tool loop's next request: the answer's blocks as the client keeps them, and the tool's result. */
  const next = (request: ReturnType<typeof turn>, content: Anthropic.ContentBlock[]) => {
    const call = content.find((b) => b.type === "tool_use");
    assert.ok(call?.type === "tool_use");
    return {
      ...request,
      messages: [
        ...request.messages,
        { role: "assistant" as const, content: content as Anthropic.ContentBlockParam[] },
        { role: "user" as const, content: [{ type: "tool_result" as const, tool_use_id: call.id, content: "noon" }] },
      ],
    };
  };

  it("goes back as the call's turn's reasoning_content where the upstream reads it, streamed and whole", async () => {
    deepseek.script((request) =>
      JSON.stringify(request.body).includes("tool_call_id")
        ? answer()
        : { kind: "tool_calls", reasoning: REASONING, calls: [{ name: "get_time", arguments: {} }] },
    );
    try {
      for (const streamed of [true, false]) {
        const request = turn("dsk/deepseek-reasoner");
        const first = streamed
          ? await anthropic.messages.stream(request).finalMessage()
          : await anthropic.messages.create(request);
        assert.deepEqual(first.content[0], { type: "thinking", thinking: REASONING, signature: "" });
        const { response } = await anthropic.messages.create(next(request, first.content)).withResponse();
        const sent = lastBody(deepseek).messages as Record<string, unknown>[];
        const assistant = sent.find((m) => m.role === "assistant");
        assert.equal(assistant?.reasoning_content, REASONING);
        assert.equal((assistant?.tool_calls as unknown[]).length, 1);
        assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning/);
      }
      // An upstream not known to read it is not sent the field (api.openai.com refuses it), and says so.
      const request = turn("deepseek/deepseek-reasoner");
      const first = await anthropic.messages.create(request);
      const { response } = await anthropic.messages.create(next(request, first.content)).withResponse();
      const assistant = (lastBody(deepseek).messages as Record<string, unknown>[]).find((m) => m.role === "assistant");
      assert.equal("reasoning_content" in (assistant ?? {}), false);
      assert.match(response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning/);
    } finally {
      deepseek.script(answer);
    }
  });
});

describe("Anthropic client -> Anthropic upstream on the canonical path (a fitted conversation)", () => {
  const filler = "lorem ipsum dolor sit amet ".repeat(600);

  for (const streamed of [true, false]) {
    it(`${streamed ? "streamed" : "whole"}: turn 2 keeps the signature; the answer's signature comes back as signature_delta`, async () => {
      const params = {
        model: "claude/fit",
        // Above the thinking budget, as Anthropic requires.
        max_tokens: 1100,
        thinking: { type: "enabled" as const, budget_tokens: 1024 },
        messages: [
          { role: "user" as const, content: filler },
          { role: "assistant" as const, content: "Noted." },
          { role: "user" as const, content: "Hi" },
          {
            role: "assistant" as const,
            content: [
              { type: "thinking" as const, thinking: "Earlier thought.", signature: "SIG-TURN-1" },
              { type: "text" as const, text: "Hello." },
            ],
          },
          { role: "user" as const, content: "And now?" },
        ],
      };
      const { data: message, response } = streamed
        ? await (async () => {
            const { data: stream, response } = await anthropic.messages.stream(params).withResponse();
            return { data: await stream.finalMessage(), response };
          })()
        : await anthropic.messages.create(params).withResponse();
      assert.match(response.headers.get("x-tandem-degraded") ?? "", /fitted/);
      const sent = lastBody(claude).messages as Array<{ role: string; content: Block[] }>;
      assert.equal(sent.length, 3, "the oldest turns were left out");
      assert.deepEqual(sent[1]?.content[0], { type: "thinking", thinking: "Earlier thought.", signature: "SIG-TURN-1" });
      assert.equal(response.headers.get("x-tandem-warnings"), null);
      const [thinking] = message.content as Block[];
      assert.deepEqual(thinking, { type: "thinking", thinking: REASONING, signature: SIGNATURE });
    });

    it(`${streamed ? "streamed" : "whole"}, display omitted: the signed block with empty text, as Anthropic answers then`, async () => {
      const params = {
        model: "claude/fit",
        max_tokens: 1100,
        thinking: { type: "adaptive" as const, display: "omitted" as const },
        messages: [
          { role: "user" as const, content: filler },
          { role: "assistant" as const, content: "Noted." },
          { role: "user" as const, content: "Hi" },
        ],
      };
      const { data: message, response } = streamed
        ? await (async () => {
            const { data: stream, response } = await anthropic.messages.stream(params).withResponse();
            return { data: await stream.finalMessage(), response };
          })()
        : await anthropic.messages.create(params).withResponse();
      assert.match(response.headers.get("x-tandem-degraded") ?? "", /fitted/);
      assert.deepEqual(message.content[0], { type: "thinking", thinking: "", signature: SIGNATURE });
      assert.equal(message.content[1]?.type, "text");
    });
  }
});

describe("Anthropic client -> Anthropic upstream on the canonical path: tool ids", () => {
  it("reach the upstream as the client wrote them, toolu_ and all, as on the same-wire path (its prompt cache prefix)", async () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(600);
    // An id Anthropic made, and one tandem wrote for another upstream's call (`call_9`).
    const ids = ["toolu_01A09q90qw90lq917835lq9", "toolu_call_9"];
    const conversation = (model: string): Anthropic.MessageCreateParamsNonStreaming => ({
      model,
      max_tokens: 200,
      tools: [{ name: "get_weather", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: filler },
        { role: "assistant", content: "Noted." },
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: ids.map((id, i) => ({ type: "tool_use" as const, id, name: "get_weather", input: { city: i } })),
        },
        { role: "user", content: ids.map((id) => ({ type: "tool_result" as const, tool_use_id: id, content: "sunny" })) },
      ],
    });
    const res = await anthropic.messages.create(conversation("claude/fit")).withResponse();
    assert.match(res.response.headers.get("x-tandem-degraded") ?? "", /fitted/);
    const sent = lastBody(claude).messages as Array<{ role: string; content: Array<Record<string, unknown>> }>;
    const uses = sent.flatMap((m) => m.content.filter((b) => b.type === "tool_use").map((b) => b.id));
    const results = sent.flatMap((m) => m.content.filter((b) => b.type === "tool_result").map((b) => b.tool_use_id));
    assert.deepEqual(uses, ids);
    assert.deepEqual(results, ids);
    // An OpenAI-compatible upstream is still asked about its own call ids, without the prefix.
    await anthropic.messages.create(conversation("deepseek/deepseek-reasoner"));
    const openai = lastBody(deepseek).messages as Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
    const calls = openai.flatMap((m) => (m.tool_calls ?? []).map((call) => call.id));
    assert.deepEqual(calls, ["01A09q90qw90lq917835lq9", "call_9"]);
    assert.deepEqual(
      openai.flatMap((m) => (m.tool_call_id === undefined ? [] : [m.tool_call_id])),
      calls,
    );
  });
});

describe("Claude Code's adaptive thinking with an effort (output_config.effort)", () => {
  /** What Claude Code 2.x sends on every request. */
  const adaptive = (model: string, effort: string, extra: Record<string, unknown> = {}) =>
    fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({
        model,
        max_tokens: 4000,
        thinking: { type: "adaptive", display: "omitted" },
        output_config: { effort },
        messages: [{ role: "user", content: "Hi" }],
        ...extra,
      }),
    });

  it("reaches an OpenAI-compatible reasoning upstream as reasoning_effort", async () => {
    const res = await adaptive("deepseek/deepseek-reasoner", "low");
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastBody(deepseek).reasoning_effort, "low");
    assert.doesNotMatch(res.headers.get("x-tandem-warnings") ?? "", /output_config\.effort/);
  });

  it("max, which OpenAI's wire lacks, goes as xhigh and says so", async () => {
    const res = await adaptive("deepseek/deepseek-reasoner", "max");
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastBody(deepseek).reasoning_effort, "xhigh");
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /output_config\.effort max \(xhigh sent instead\)/);
  });

  it("xhigh, which both wires have, goes as xhigh, with no warning", async () => {
    const res = await adaptive("deepseek/deepseek-reasoner", "xhigh");
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastBody(deepseek).reasoning_effort, "xhigh");
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });

  it("leaves an Ollama model to decide, as adaptive means (no think sent)", async () => {
    const res = await adaptive("ollama/qwen3:latest", "high");
    assert.equal(res.status, 200, await res.text());
    assert.equal("think" in lastBody(ollamaUp), false);
  });

  it("stays adaptive, with its effort, to an Anthropic upstream on the canonical path", async () => {
    const res = await adaptive("claude/fit", "medium", {
      max_tokens: 1100,
      messages: [
        { role: "user", content: "lorem ipsum dolor sit amet ".repeat(600) },
        { role: "assistant", content: "Noted." },
        { role: "user", content: "Hi" },
      ],
    });
    assert.equal(res.status, 200, await res.text());
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /fitted/);
    const body = lastBody(claude);
    assert.deepEqual(body.thinking, { type: "adaptive" });
    assert.deepEqual(body.output_config, { effort: "medium" });
  });
});

describe("OpenAI client -> Anthropic thinking upstream", () => {
  it("streamed: reasoning_effort becomes thinking; thinking comes back as delta.reasoning_content", async () => {
    const stream = await openai.chat.completions.create({
      model: "claude/claude-haiku-4-5",
      reasoning_effort: "high",
      max_tokens: 1000,
      temperature: 0.5,
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    });
    let reasoning = "";
    let text = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? "";
      text += delta?.content ?? "";
    }
    assert.equal(reasoning, REASONING);
    assert.equal(text, "Hello!");
    const body = lastBody(claude);
    assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 24576 });
    assert.ok((body.max_tokens as number) > 24576, "max_tokens above the thinking budget");
    assert.equal(body.temperature, undefined, "no temperature with thinking");
  });

  it("whole: message.reasoning_content", async () => {
    const completion = await openai.chat.completions.create({
      model: "claude/claude-haiku-4-5",
      messages: [{ role: "user", content: "Hi" }],
    });
    const message = completion.choices[0]?.message as { content: string; reasoning_content?: string };
    assert.equal(message.reasoning_content, REASONING);
    assert.equal(message.content, "Hello!");
  });

  it("history with reasoning no Anthropic upstream signed is left out for Anthropic, with a warning", async () => {
    const { response } = await openai.chat.completions
      .create({
        model: "claude/claude-haiku-4-5",
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!", reasoning_content: "DeepSeek's own thought." } as never,
          { role: "user", content: "Again" },
        ],
      })
      .withResponse();
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning not sent to claude\/claude-haiku-4-5/);
    const sent = lastBody(claude).messages as Array<{ role: string; content: Block[] }>;
    assert.ok(!sent.some((m) => m.content.some((b) => b.type === "thinking")));
  });

  it("OpenAI client -> Ollama: reasoning_effort as think; thinking as reasoning_content", async () => {
    const completion = await openai.chat.completions.create({
      model: "ollama/qwen3:latest",
      reasoning_effort: "medium",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(lastBody(ollamaUp).think, "medium");
    assert.equal((completion.choices[0]?.message as { reasoning_content?: string }).reasoning_content, REASONING);
  });
});

describe("Ollama client -> Anthropic", () => {
  it("think: true, streamed: thinking enabled upstream; message.thinking chunks back", async () => {
    const stream = await ollama.chat({
      model: "claude/claude-haiku-4-5",
      think: true,
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    });
    let thinking = "";
    let content = "";
    for await (const part of stream) {
      thinking += part.message.thinking ?? "";
      content += part.message.content;
    }
    assert.equal(thinking, REASONING);
    assert.equal(content, "Hello!");
    assert.deepEqual(lastBody(claude).thinking, { type: "enabled", budget_tokens: 8192 });
  });

  it("think: 'low', whole: message.thinking", async () => {
    const response = await ollama.chat({
      model: "claude/claude-haiku-4-5",
      think: "low",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(response.message.thinking, REASONING);
    assert.deepEqual(lastBody(claude).thinking, { type: "enabled", budget_tokens: 2048 });
  });

  it("without think: none asked for upstream, so an Anthropic model, which thinks only when asked, shows none", async () => {
    // As Anthropic answers a request without `thinking`: no thinking block.
    claude.script((request) => ((request.body as { thinking?: unknown }).thinking ? answer() : { kind: "text", text: "Hello!" }));
    try {
      const response = await ollama.chat({ model: "claude/claude-haiku-4-5", messages: [{ role: "user", content: "Hi" }] });
      assert.equal(response.message.thinking, undefined);
      assert.equal(response.message.content, "Hello!");
      assert.equal(lastBody(claude).thinking, undefined);
    } finally {
      claude.script(answer);
    }
  });

  it("Ollama history's thinking reaches an Ollama-speaking target on the canonical path as thinking", async () => {
    // An Anthropic client's turn with thinking, to an Ollama target: the text crosses (the signature is Anthropic's).
    await anthropic.messages.create({
      model: "ollama/qwen3:latest",
      max_tokens: 100,
      messages: [
        { role: "user", content: "Hi" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "A thought.", signature: "SIG" },
            { type: "text", text: "Hello." },
          ],
        },
        { role: "user", content: "Again" },
      ],
    });
    const sent = lastBody(ollamaUp).messages as Array<{ role: string; thinking?: string }>;
    assert.equal(sent[1]?.thinking, "A thought.");
  });
});

describe("effort levels above high, to a target on another wire", () => {
  // The canonical form has every dialect's levels: each target gets the level, or the nearest below
  // it its wire has, named in the client's own field (chat completions': passthrough-wire-only.test.ts).
  for (const [effort, budget] of [
    ["xhigh", 49152],
    ["max", 65536],
  ] as const) {
    it(`Responses reasoning.effort ${effort}: an Anthropic budget above high's, nothing named`, async () => {
      const { response } = await openai.responses
        .create({ model: "claude/claude-haiku-4-5", input: "Hi", reasoning: { effort } })
        .withResponse();
      assert.deepEqual(lastBody(claude).thinking, { type: "enabled", budget_tokens: budget });
      assert.ok((lastBody(claude).max_tokens as number) > budget);
      assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /effort/);
    });
  }

  it("Responses reasoning.effort max: xhigh to an OpenAI-compatible upstream, named as reasoning.effort", async () => {
    const { response } = await openai.responses
      .create({ model: "deepseek/deepseek-reasoner", input: "Hi", reasoning: { effort: "max" } })
      .withResponse();
    assert.equal(lastBody(deepseek).reasoning_effort, "xhigh");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /reasoning\.effort max \(xhigh sent instead\)/);
  });

  it("chat completions' xhigh: high to an Ollama upstream (Ollama has no xhigh, and max is more), named", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: "ollama/qwen3:latest", messages: [{ role: "user", content: "Hi" }], reasoning_effort: "xhigh" })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello!");
    assert.equal(lastBody(ollamaUp).think, "high");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort xhigh \(high sent instead\)/);
  });

  it("chat completions' max: max to an Ollama upstream, nothing named", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "ollama/qwen3:latest", messages: [{ role: "user", content: "Hi" }], reasoning_effort: "max" as never })
      .withResponse();
    assert.equal(lastBody(ollamaUp).think, "max");
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /effort/);
  });

  it("Anthropic adaptive xhigh and max go to an Anthropic upstream as they came", async () => {
    for (const effort of ["xhigh", "max"]) {
      const res = await fetch(`${tandem.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({
          model: "claude/claude-haiku-4-5",
          max_tokens: 4000,
          thinking: { type: "adaptive" },
          output_config: { effort },
          messages: [{ role: "user", content: "Hi" }],
        }),
      });
      assert.equal(res.status, 200, await res.text());
      assert.deepEqual(lastBody(claude).output_config, { effort });
    }
  });

  it("Responses reasoning.effort minimal: low to an Ollama upstream (its least), named", async () => {
    const { response } = await openai.responses
      .create({ model: "ollama/qwen3:latest", input: "Hi", reasoning: { effort: "minimal" } })
      .withResponse();
    assert.equal(lastBody(ollamaUp).think, "low");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /reasoning\.effort minimal \(low sent instead\)/);
  });

  /** An Ollama client's chat asking `think: "max"` of `model`. */
  const ollamaThinkMax = (model: string) =>
    fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, think: "max", stream: false, messages: [{ role: "user", content: "Hi" }] }),
    });

  it("Ollama think 'max': xhigh to an OpenAI-compatible upstream, named as think", async () => {
    const res = await ollamaThinkMax("deepseek/deepseek-reasoner");
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastBody(deepseek).reasoning_effort, "xhigh");
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /think max \(xhigh sent instead\)/);
  });

  it("Ollama think 'max' to an Ollama upstream goes as it came, with no warning", async () => {
    const res = await ollamaThinkMax("ollama/qwen3:latest");
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastBody(ollamaUp).think, "max");
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });
});
