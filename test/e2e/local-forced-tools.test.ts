/**
 * Forced tool choices on the local engine: `tool_choice: "required"` or a named function (Anthropic
 * `any` / `tool`) get a call of an offered tool with arguments of its schema, never prose.
 *
 * The model the test writes prefers prose ("It is sunny.") and ranks the call second; unforced it
 * answers in prose, forced the grammar rules the prose out and its second choice, the call, is
 * what it writes. So the test fails whenever the force is not applied.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { EOS, makeModelDir, writeBigramModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;

const weather = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};
const time = {
  name: "get_time",
  description: "Current time in a city",
  parameters: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const prose = ["It", " is", " sunny."];
  const call = ['{"name": "', "get_weather", '", "arguments": ', '{"city": "', "Paris", '"}', "}"];
  const chain = (pieces: string[]) => pieces.map((p, i) => ({ from: p, to: [pieces[i + 1] ?? EOS] }));
  await writeBigramModel(
    join(made.dir, "chooser.gguf"),
    { start: [prose[0] as string, call[0] as string], transitions: [...chain(prose), ...chain(call)] },
    {},
    { pieces: [...prose, ...call] },
  );
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { chooser: { path: join(made.dir, "chooser.gguf"), contextSize: 1024 } } },
    },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

const ask = [{ role: "user" as const, content: "Weather in Paris?" }];

describe("forced tool choices on the local engine", () => {
  it("unforced, the model answers in prose (so the forced cases below prove the force)", async () => {
    const res = await openai.chat.completions.create({
      model: "local/chooser",
      messages: ask,
      tools: [{ type: "function", function: weather }],
      temperature: 0,
    });
    assert.equal(res.choices[0]?.message.content, "It is sunny.");
  });

  it("tool_choice required: a call of an offered tool, with schema-valid arguments (OpenAI, whole and streamed)", async () => {
    const res = await openai.chat.completions.create({
      model: "local/chooser",
      messages: ask,
      tools: [
        { type: "function", function: weather },
        { type: "function", function: time },
      ],
      tool_choice: "required",
      temperature: 0,
    });
    assert.equal(res.choices[0]?.finish_reason, "tool_calls");
    const calls = res.choices[0]?.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), { city: "Paris" });
    assert.match(call.id, /^call_/);

    const stream = await openai.chat.completions.create({
      model: "local/chooser",
      messages: ask,
      tools: [{ type: "function", function: weather }],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      stream: true,
      temperature: 0,
    });
    let name = "";
    let args = "";
    let text = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += d.function?.name ?? "";
        args += d.function?.arguments ?? "";
      }
    }
    assert.equal(text, "");
    assert.equal(name, "get_weather");
    assert.deepEqual(JSON.parse(args), { city: "Paris" });
  });

  it("Anthropic tool_choice any and tool", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    for (const tool_choice of [{ type: "any" as const }, { type: "tool" as const, name: "get_weather" }]) {
      const message = await anthropic.messages.create({
        model: "local/chooser",
        max_tokens: 100,
        messages: ask,
        tools: [{ name: weather.name, description: weather.description, input_schema: weather.parameters }],
        tool_choice,
      });
      assert.equal(message.stop_reason, "tool_use");
      const block = message.content.find((b) => b.type === "tool_use");
      assert.equal(block?.type === "tool_use" && block.name, "get_weather");
      assert.deepEqual(block?.type === "tool_use" && block.input, { city: "Paris" });
    }
  });

  it("a forced call cut off by max_tokens comes back as far as it was written, finish_reason length (OpenAI, whole and streamed)", async () => {
    const cut = (max_tokens: number) =>
      openai.chat.completions.create({
        model: "local/chooser",
        messages: ask,
        tools: [{ type: "function", function: weather }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        max_tokens,
        temperature: 0,
      });
    // The model writes `{"name": "`, `get_weather`, `", "arguments": `, `{"city": "`, `Paris`, `"}`, `}`.
    for (const [max_tokens, written] of [
      [2, ""],
      [5, '{"city": "Paris'],
      [6, '{"city": "Paris"}'],
    ] as const) {
      const res = await cut(max_tokens);
      assert.equal(res.choices[0]?.finish_reason, "length", `max_tokens ${max_tokens}`);
      const calls = (res.choices[0]?.message.tool_calls ?? []) as OpenAI.ChatCompletionMessageFunctionToolCall[];
      assert.deepEqual(
        calls.map((c) => c.function),
        [{ name: "get_weather", arguments: written }],
        `max_tokens ${max_tokens}`,
      );
    }

    const stream = await openai.chat.completions.create({
      model: "local/chooser",
      messages: ask,
      tools: [{ type: "function", function: weather }],
      tool_choice: "required",
      max_tokens: 5,
      stream: true,
      temperature: 0,
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += d.function?.name ?? "";
        args += d.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.deepEqual([name, args, finish], ["get_weather", '{"city": "Paris', "length"]);
  });

  it("a forced call cut off by max_tokens is a tool_use block with stop_reason max_tokens (Anthropic)", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    // Arguments that do not close become `{}`, as any malformed input does for Anthropic clients.
    for (const [max_tokens, input] of [
      [5, {}],
      [6, { city: "Paris" }],
    ] as const) {
      const message = await anthropic.messages.create({
        model: "local/chooser",
        max_tokens,
        messages: ask,
        tools: [{ name: weather.name, description: weather.description, input_schema: weather.parameters }],
        tool_choice: { type: "any" },
      });
      assert.equal(message.stop_reason, "max_tokens");
      assert.deepEqual(
        message.content.map((b) => b.type === "tool_use" && [b.name, b.input]),
        [["get_weather", input]],
      );
    }
  });

  it("Ollama clients have no forced choice: they get what the model chooses", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const res = await ollama.chat({
      model: "local/chooser",
      messages: ask,
      tools: [{ type: "function", function: weather }],
      options: { temperature: 0 },
    });
    assert.equal(res.message.content, "It is sunny.");
  });
});
