/**
 * A thinking model's reasoning on the embedded engine, through the official SDKs: a scripted model
 * with Qwen3's vocabulary and chat template (test/support/gguf writeThinkingModel) answers
 * `<think>\n…\n</think>\n\n…`; node-llama-cpp's Qwen chat wrapper reads the think part as a thought
 * segment, and tandem shows it as each dialect's reasoning (`reasoning_content`, a thinking block,
 * `thinking`, a reasoning item) and never as answer text. Reasoning turned off is a thought budget
 * of 0: node-llama-cpp closes the segment at once and the model goes on with its answer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { makeModelDir, writeChatModel, writeThinkingModel } from "../support/gguf/index.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

const REASONING = "The user wants the number. Recall it: forty-two.";
const ANSWER = "It is 42.";
const MODEL = "local/thinker";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const info = await writeThinkingModel(join(made.dir, "thinker.gguf"), { reasoning: REASONING, answer: ANSWER });
  assert.equal(info.expectedText, `<think>\n${REASONING}\n</think>\n\n${ANSWER}`);
  // Qwen2.5's template: no thinking mode.
  const plain = await writeChatModel(join(made.dir, "plain.gguf"), { answer: "Plain." });
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: { thinker: { path: info.path, contextSize: 2048 }, plain: { path: plain.path, contextSize: 2048 } },
      },
    },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
  // Loaded first: the requests below name the target, whose first-token limit is not the subject.
  await loadLocalModel(tandem, MODEL);
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

const question = "What is the number?";
const JSON_TYPE = { "content-type": "application/json" };

describe("a thinking model on the local engine", () => {
  it("token logprobs are the answer's tokens only: not the thought's, nor the blank lines after it", async () => {
    const whole = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: question }],
      temperature: 0,
      logprobs: true,
      top_logprobs: 1,
    });
    const content = whole.choices[0]?.logprobs?.content ?? [];
    assert.equal(whole.choices[0]?.message.content, ANSWER);
    assert.equal(content.map((t) => t.token).join(""), ANSWER);
    assert.equal(Buffer.from(content.flatMap((t) => t.bytes ?? [])).toString("utf8"), ANSWER);
    for (const t of content) assert.deepEqual(t.top_logprobs[0], { token: t.token, logprob: t.logprob, bytes: t.bytes });
  });

  it("OpenAI chat completions: reasoning_content apart from the answer, whole and streamed", async () => {
    const whole = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: question }] });
    const message = whole.choices[0]?.message as { content: string | null; reasoning_content?: string };
    assert.equal(message.content, ANSWER);
    assert.equal(message.reasoning_content, REASONING);
    assert.equal(whole.choices[0]?.finish_reason, "stop");
    // The thought's tokens are output tokens (as an upstream counts them).
    assert.ok((whole.usage?.completion_tokens ?? 0) > 10, JSON.stringify(whole.usage));

    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: question }],
      stream: true,
    });
    let reasoning = "";
    let content = "";
    let reasoningAfterContent = false;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      if (delta?.reasoning_content) {
        reasoning += delta.reasoning_content;
        if (content) reasoningAfterContent = true;
      }
      if (delta?.content) content += delta.content;
    }
    assert.equal(reasoning, REASONING);
    assert.equal(content, ANSWER);
    assert.equal(reasoningAfterContent, false);
  });

  it("reasoning off (reasoning_effort none) is a thought budget of 0: the answer without any reasoning", async () => {
    const whole = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: question }],
      reasoning_effort: "none" as "low",
    });
    const message = whole.choices[0]?.message as { content: string | null; reasoning_content?: string };
    assert.equal(message.content, ANSWER);
    assert.equal(message.reasoning_content, undefined);
    // The model did not write its reasoning at all (not merely hidden): far fewer output tokens.
    assert.ok((whole.usage?.completion_tokens ?? 99) < 8, JSON.stringify(whole.usage));
  });

  it("Anthropic messages: a thinking block with thinking enabled, none without", async () => {
    const thinking = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1100,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: question }],
    });
    assert.deepEqual(
      thinking.content.map((b) => b.type),
      ["thinking", "text"],
    );
    assert.equal(thinking.content[0]?.type === "thinking" && thinking.content[0].thinking, REASONING);
    assert.equal(thinking.content[1]?.type === "text" && thinking.content[1].text, ANSWER);
    assert.equal(thinking.stop_reason, "end_turn");

    const plain = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 200,
      messages: [{ role: "user", content: question }],
    });
    assert.deepEqual(
      plain.content.map((b) => b.type),
      ["text"],
    );
    assert.equal(plain.content[0]?.type === "text" && plain.content[0].text, ANSWER);

    // Streamed: thinking deltas, then text deltas, as the SDK assembles them.
    const stream = anthropic.messages.stream({
      model: MODEL,
      max_tokens: 1100,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: question }],
    });
    const deltas = new Set<string>();
    stream.on("streamEvent", (event) => {
      if (event.type === "content_block_delta") deltas.add(event.delta.type);
    });
    const final = await stream.finalMessage();
    assert.ok(deltas.has("thinking_delta") && deltas.has("text_delta"), [...deltas].join(" "));
    assert.equal(final.content[0]?.type === "thinking" && final.content[0].thinking, REASONING);
    assert.equal(final.content[1]?.type === "text" && final.content[1].text, ANSWER);
  });

  it("Anthropic budget_tokens is the thought budget: one under Anthropic's minimum (1024) is refused, as Anthropic does", async () => {
    // A budget short enough to cut this model's reasoning is one Anthropic's API refuses; that the
    // canonical budget reaches the engine as its thought budget shows in the test above (1024: the
    // whole reasoning) and in reasoning turned off (a budget of 0) below.
    await assert.rejects(
      anthropic.messages.create({
        model: MODEL,
        max_tokens: 200,
        thinking: { type: "enabled", budget_tokens: 3 },
        messages: [{ role: "user", content: question }],
      }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /budget_tokens/.test(error.message),
    );
  });

  it("Anthropic thinking disabled turns the model's thinking off, not just its display", async () => {
    const off = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 200,
      thinking: { type: "disabled" },
      messages: [{ role: "user", content: question }],
    });
    assert.deepEqual(
      off.content.map((b) => b.type),
      ["text"],
    );
    assert.ok(off.usage.output_tokens < 8, JSON.stringify(off.usage));
  });

  it("Ollama /api/chat: message.thinking with think true, whole and streamed; none with think false", async () => {
    const whole = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: question }], think: true });
    assert.equal(whole.message.thinking, REASONING);
    assert.equal(whole.message.content, ANSWER);

    const stream = await ollama.chat({
      model: MODEL,
      messages: [{ role: "user", content: question }],
      think: true,
      stream: true,
    });
    let thinking = "";
    let content = "";
    for await (const part of stream) {
      thinking += part.message.thinking ?? "";
      content += part.message.content;
    }
    assert.equal(thinking, REASONING);
    assert.equal(content, ANSWER);

    const off = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: question }], think: false });
    assert.equal(off.message.thinking, undefined);
    assert.equal(off.message.content, ANSWER);
    assert.ok((off.eval_count ?? 99) < 8, `eval_count ${off.eval_count}`);
  });

  it("Ollama: a model whose template thinks shows the thinking capability; one that cannot is refused think in Ollama's words", async () => {
    assert.deepEqual((await ollama.show({ model: MODEL })).capabilities, ["completion", "tools", "thinking"]);
    assert.deepEqual((await ollama.show({ model: "local/plain" })).capabilities, ["completion", "tools"]);
    for (const think of [true, "high"] as const) {
      for (const path of ["/api/chat", "/api/generate"]) {
        const body =
          path === "/api/chat"
            ? { model: "local/plain", messages: [{ role: "user", content: "Hi" }], think, stream: false }
            : { model: "local/plain", prompt: "Hi", think, stream: false };
        const res = await fetch(`${tandem.url}${path}`, { method: "POST", headers: JSON_TYPE, body: JSON.stringify(body) });
        assert.equal(res.status, 400, path);
        assert.deepEqual(await res.json(), { error: '"local/plain" does not support thinking' });
      }
    }
    // Asked not to think, or not asked, it answers; other dialects' reasoning settings are translated, not refused.
    const off = await ollama.chat({ model: "local/plain", messages: [{ role: "user", content: "Hi" }], think: false });
    assert.equal(off.message.content, "Plain.");
    const unset = await ollama.generate({ model: "local/plain", prompt: "Hi" });
    assert.equal(unset.response, "Plain.");
    const effort = await openai.chat.completions.create({
      model: "local/plain",
      messages: [{ role: "user", content: "Hi" }],
      reasoning_effort: "high",
    });
    assert.equal(effort.choices[0]?.message.content, "Plain.");
    // An unknown model is still Ollama's 404, not the thinking refusal.
    const unknown = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({ model: "local/nothing", messages: [{ role: "user", content: "Hi" }], think: true }),
    });
    assert.equal(unknown.status, 404);
  });

  it("Responses: a reasoning item before the message, whole and streamed", async () => {
    const res = await openai.responses.create({ model: MODEL, input: question });
    assert.equal(res.status, "completed");
    assert.deepEqual(
      res.output.map((item) => item.type),
      ["reasoning", "message"],
    );
    const reasoning = res.output[0];
    assert.ok(reasoning?.type === "reasoning");
    assert.equal(reasoning.summary.map((s) => s.text).join(""), REASONING);
    assert.equal(res.output_text, ANSWER);

    const stream = openai.responses.stream({ model: MODEL, input: question });
    const types = new Set<string>();
    for await (const event of stream) types.add(event.type);
    const final = await stream.finalResponse();
    assert.deepEqual(
      final.output.map((item) => item.type),
      ["reasoning", "message"],
    );
    assert.equal(final.output_text, ANSWER);
    assert.ok(
      [...types].some((t) => t.startsWith("response.reasoning")),
      [...types].join(" "),
    );

    const off = await openai.responses.create({ model: MODEL, input: question, reasoning: { effort: "none" as "low" } });
    assert.deepEqual(
      off.output.map((item) => item.type),
      ["message"],
    );
    assert.equal(off.output_text, ANSWER);
  });
});
