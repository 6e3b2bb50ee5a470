/**
 * Exact answers from the embedded engine through the OpenAI, Anthropic and Ollama clients, on tiny
 * deterministic models written by the test (test/support/gguf): a chat answer, a JSON answer, and a
 * tool call round trip (the model calls get_weather, then answers from the tool's result) mapped to
 * each dialect's own tool-call shape; and a request canceled by its client freeing its slot.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import {
  makeModelDir,
  writeChatModel,
  writeJsonAnswerModel,
  writeLoopingModel,
  writeToolCallModel,
} from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;

const weather = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  await writeToolCallModel(join(made.dir, "tools.gguf"));
  await writeJsonAnswerModel(join(made.dir, "json.gguf"));
  await writeLoopingModel(join(made.dir, "loop.gguf"));
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          chat: { path: join(made.dir, "chat.gguf"), contextSize: 512 },
          tools: { path: join(made.dir, "tools.gguf"), contextSize: 1024 },
          json: { path: join(made.dir, "json.gguf"), contextSize: 512 },
          loop: { path: join(made.dir, "loop.gguf"), contextSize: 512, parallel: 1 },
        },
      },
    },
  });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

describe("exact local answers through every client", () => {
  it("a chat answer, the same through the three clients (sampling defaults left to tandem)", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const a = await openai.chat.completions.create({ model: "local/chat", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(a.choices[0]?.message.content, "Hello from tandem.");
    assert.equal(a.choices[0]?.finish_reason, "stop");

    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const b = await anthropic.messages.create({
      model: "local/chat",
      max_tokens: 50,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.deepEqual(
      b.content.map((c) => (c.type === "text" ? c.text : c.type)),
      ["Hello from tandem."],
    );
    assert.equal(b.stop_reason, "end_turn");

    const ollama = new Ollama({ host: tandem.url });
    const c = await ollama.chat({ model: "local/chat", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(c.message.content, "Hello from tandem.");
    assert.equal(c.done_reason, "stop");
  });

  it("JSON mode", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const res = await openai.chat.completions.create({
      model: "local/json",
      messages: [{ role: "user", content: "Answer in JSON" }],
      response_format: { type: "json_object" },
    });
    assert.deepEqual(JSON.parse(res.choices[0]?.message.content ?? ""), { answer: "yes" });
  });

  it("a tool call round trip with the OpenAI client, streamed", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const tools = [{ type: "function" as const, function: weather }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What's the weather in Paris?" }];
    const stream = await openai.chat.completions.create({ model: "local/tools", messages, tools, stream: true, temperature: 0 });
    const calls: { id: string; name: string; args: string }[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        calls[d.index] ??= { id: "", name: "", args: "" };
        const call = calls[d.index] as { id: string; name: string; args: string };
        call.id += d.id ?? "";
        call.name += d.function?.name ?? "";
        call.args += d.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, "tool_calls");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.name, "get_weather");
    assert.deepEqual(JSON.parse(calls[0]?.args ?? ""), { city: "Paris" });
    assert.match(calls[0]?.id ?? "", /^call_/);

    const call = calls[0] as { id: string; name: string; args: string };
    messages.push(
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: call.id, type: "function", function: { name: call.name, arguments: call.args } }],
      },
      { role: "tool", tool_call_id: call.id, content: '{"sky": "sunny"}' },
    );
    const answer = await openai.chat.completions.create({ model: "local/tools", messages, tools, temperature: 0 });
    assert.equal(answer.choices[0]?.message.content, "It is sunny in Paris.");
    assert.equal(answer.choices[0]?.finish_reason, "stop");
  });

  it("a tool call round trip with the Anthropic client", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const tools = [
      { name: weather.name, description: weather.description, input_schema: weather.parameters as Anthropic.Tool.InputSchema },
    ];
    const first = await anthropic.messages.create({
      model: "local/tools",
      max_tokens: 100,
      tools,
      messages: [{ role: "user", content: "What's the weather in Paris?" }],
    });
    assert.equal(first.stop_reason, "tool_use");
    const use = first.content.find((c) => c.type === "tool_use");
    assert.ok(use && use.type === "tool_use");
    assert.equal(use.name, "get_weather");
    assert.deepEqual(use.input, { city: "Paris" });
    // The call's tokens count as output (they once counted 0).
    assert.ok(first.usage.output_tokens > 0, `output_tokens ${first.usage.output_tokens}`);
    const second = await anthropic.messages.create({
      model: "local/tools",
      max_tokens: 100,
      tools,
      messages: [
        { role: "user", content: "What's the weather in Paris?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }] },
      ],
    });
    assert.deepEqual(
      second.content.map((c) => (c.type === "text" ? c.text : c.type)),
      ["It is sunny in Paris."],
    );
  });

  it("a tool call with the Ollama client", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const res = await ollama.chat({
      model: "local/tools",
      messages: [{ role: "user", content: "What's the weather in Paris?" }],
      tools: [{ type: "function", function: weather }],
      options: { temperature: 0 },
    });
    assert.equal(res.message.tool_calls?.length, 1);
    assert.equal(res.message.tool_calls?.[0]?.function.name, "get_weather");
    assert.deepEqual(res.message.tool_calls?.[0]?.function.arguments, { city: "Paris" });
  });

  it("a client that disconnects mid-stream frees the model's only slot at once", async () => {
    const controller = new AbortController();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "local/loop",
        messages: [{ role: "user", content: "go" }],
        stream: true,
        max_tokens: 100_000,
      }),
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    assert.ok(reader);
    await reader.read();
    await reader.read();
    controller.abort();
    const local = tandem.server.catalog.slots.get("local")?.provider;
    const started = performance.now();
    // Only a broken cancel waits out the bound: it is generous for a loaded box.
    while (local?.load?.("loop")?.active !== 0 && performance.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(local?.load?.("loop")?.active, 0, "slot freed");
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const next = await openai.chat.completions.create({
      model: "local/loop",
      messages: [{ role: "user", content: "go" }],
      max_tokens: 6,
    });
    assert.match(next.choices[0]?.message.content ?? "", /^tick tock tick tock/);
    assert.equal(next.usage?.completion_tokens, 6);
    assert.equal(next.choices[0]?.finish_reason, "length");
  });
});
