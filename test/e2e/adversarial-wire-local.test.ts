/**
 * The official SDKs' stream helpers against the embedded engine, through tiny deterministic models
 * (test/support/gguf): openai runTools, chat and Responses parse helpers with zod (streamed and not);
 * @anthropic-ai/sdk messages.stream().finalMessage() over a tool round trip and with thinking,
 * countTokens; the ollama SDK's chat and generate with `think`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { zodResponseFormat, zodTextFormat } from "openai/helpers/zod";
import { z } from "zod";
import { makeModelDir, writeJsonAnswerModel, writeThinkingModel, writeToolCallModel } from "../support/gguf/index.js";
import { runnableWeatherTool } from "../support/runnable-weather-tool.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

const REASONING = "The user greets me. Greet back.";
const ANSWER = "Hello there.";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeToolCallModel(join(made.dir, "tools.gguf"));
  await writeJsonAnswerModel(join(made.dir, "json.gguf"), { value: { city: "Paris", degrees: 21 } });
  await writeThinkingModel(join(made.dir, "thinker.gguf"), { reasoning: REASONING, answer: ANSWER });
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          tools: { path: join(made.dir, "tools.gguf"), contextSize: 1024 },
          json: { path: join(made.dir, "json.gguf"), contextSize: 512 },
          thinker: { path: join(made.dir, "thinker.gguf"), contextSize: 1024 },
        },
      },
    },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

const Answer = z.object({ city: z.string(), degrees: z.number() });

describe("the openai SDK's helpers on the local engine", () => {
  it("chat.completions.runTools runs the function and ends with the model's answer", async () => {
    await loadLocalModel(tandem, "local/tools");
    const cities: string[] = [];
    const runner = openai.chat.completions.runTools({
      model: "local/tools",
      temperature: 0,
      messages: [{ role: "user", content: "What's the weather in Paris?" }],
      stream: true,
      tools: [
        runnableWeatherTool((city) => {
          cities.push(city);
          return '{"sky": "sunny"}';
        }),
      ],
    });
    assert.equal(await runner.finalContent(), "It is sunny in Paris.");
    assert.deepEqual(cities, ["Paris"]);
  });

  it("chat.completions.parse and .stream with zodResponseFormat", async () => {
    await loadLocalModel(tandem, "local/json");
    const request = {
      model: "local/json",
      messages: [{ role: "user" as const, content: "Weather?" }],
      response_format: zodResponseFormat(Answer, "answer"),
    };
    const parsed = await openai.chat.completions.parse(request);
    assert.deepEqual(parsed.choices[0]?.message.parsed, { city: "Paris", degrees: 21 });
    const final = await openai.chat.completions.stream(request).finalChatCompletion();
    assert.deepEqual(final.choices[0]?.message.parsed, { city: "Paris", degrees: 21 });
    assert.ok(final.usage === undefined || final.usage === null || final.usage.completion_tokens > 0);
  });

  it("responses.parse and responses.stream with zodTextFormat", async () => {
    await loadLocalModel(tandem, "local/json");
    const request = { model: "local/json", input: "Weather?", text: { format: zodTextFormat(Answer, "answer") } };
    const parsed = await openai.responses.parse(request);
    assert.deepEqual(parsed.output_parsed, { city: "Paris", degrees: 21 });
    const stream = openai.responses.stream(request);
    let last = -1;
    for await (const event of stream) {
      assert.ok(event.sequence_number > last, `${event.type} out of sequence`);
      last = event.sequence_number;
    }
    const final = await stream.finalResponse();
    assert.equal(final.status, "completed");
    assert.deepEqual(final.output_parsed, { city: "Paris", degrees: 21 });
    assert.ok(final.usage && final.usage.output_tokens > 0);
  });
});

describe("@anthropic-ai/sdk on the local engine", () => {
  it("messages.stream().finalMessage() over a tool round trip", async () => {
    await loadLocalModel(tandem, "local/tools");
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        description: "Current weather for a city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ];
    const question: Anthropic.MessageParam = { role: "user", content: "What's the weather in Paris?" };
    const first = await anthropic.messages
      .stream({ model: "local/tools", max_tokens: 256, temperature: 0, tools, messages: [question] })
      .finalMessage();
    assert.equal(first.stop_reason, "tool_use");
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    assert.deepEqual(use?.input, { city: "Paris" });
    const second = await anthropic.messages
      .stream({
        model: "local/tools",
        max_tokens: 256,
        temperature: 0,
        tools,
        messages: [
          question,
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use?.id ?? "", content: '{"sky": "sunny"}' }] },
        ],
      })
      .finalMessage();
    assert.equal(second.stop_reason, "end_turn");
    assert.deepEqual(
      second.content.map((b) => b.type === "text" && b.text),
      ["It is sunny in Paris."],
    );
    assert.ok(second.usage.output_tokens > 0);
  });

  it("messages.stream().finalMessage() with thinking, and countTokens", async () => {
    await loadLocalModel(tandem, "local/thinker");
    const message = await anthropic.messages
      .stream({
        model: "local/thinker",
        max_tokens: 2048,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [{ role: "user", content: "Hi" }],
      })
      .finalMessage();
    const thinking = message.content.find((b) => b.type === "thinking");
    assert.equal(thinking?.type === "thinking" && thinking.thinking.trim(), REASONING);
    const text = message.content.filter((b) => b.type === "text").map((b) => (b as Anthropic.TextBlock).text);
    assert.equal(text.join("").trim(), ANSWER);
    const counted = await anthropic.messages.countTokens({ model: "local/thinker", messages: [{ role: "user", content: "Hi" }] });
    assert.ok(counted.input_tokens > 0);
  });
});

describe("the ollama SDK on the local engine", () => {
  it("chat streamed and generate (streamed and not) with think", async () => {
    await loadLocalModel(tandem, "local/thinker");
    let thinking = "";
    let content = "";
    let last: { done: boolean; done_reason?: string; eval_count?: number } | undefined;
    for await (const part of await ollama.chat({
      model: "local/thinker",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      think: true,
    })) {
      thinking += part.message.thinking ?? "";
      content += part.message.content;
      last = part;
    }
    assert.equal(thinking.trim(), REASONING);
    assert.equal(content.trim(), ANSWER);
    assert.equal(last?.done, true);
    assert.equal(last?.done_reason, "stop");
    assert.ok((last?.eval_count ?? 0) > 0);
    const whole = await ollama.generate({ model: "local/thinker", prompt: "Hi", think: true, stream: false });
    assert.equal(whole.thinking?.trim(), REASONING);
    assert.equal(whole.response?.trim(), ANSWER);
    let streamed = "";
    for await (const part of await ollama.generate({ model: "local/thinker", prompt: "Hi", think: true, stream: true })) {
      streamed += part.response;
    }
    assert.equal(streamed.trim(), ANSWER);
  });
});
