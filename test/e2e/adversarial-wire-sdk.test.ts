/**
 * The official SDKs' own stream helpers against tandem, through each kind of upstream: they check
 * the order of events and build the final object themselves, so what tandem streams must be what
 * they expect. openai: chat.completions.stream/runTools/parse (zodResponseFormat),
 * responses.stream/parse (zodTextFormat); @anthropic-ai/sdk: messages.stream().finalMessage() with
 * thinking and tool use, countTokens; ollama: chat and generate streamed with `think`.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { zodResponseFormat, zodTextFormat } from "openai/helpers/zod";
import { z } from "zod";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeScript, FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { runnableWeatherTool } from "../support/runnable-weather-tool.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const KINDS = ["openai", "anthropic", "ollama"] as const;
type Kind = (typeof KINDS)[number];
const MODEL: Record<Kind, string> = { openai: "gpt-4o-mini", anthropic: "claude-haiku-4-5", ollama: "llama3.2:latest" };

const fakes = {} as Record<Kind, FakeUpstream>;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;

before(async () => {
  [fakes.openai, fakes.anthropic, fakes.ollama] = await Promise.all([
    startFakeOpenAI({ models: [MODEL.openai] }),
    startFakeAnthropic({ models: [MODEL.anthropic] }),
    startFakeOllama({ models: [MODEL.ollama] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: fakes.openai.url, local: false, apiKeys: ["env:UP_OPENAI"] },
        anthropic: { kind: "anthropic", baseUrl: fakes.anthropic.url, local: false, apiKeys: ["env:UP_ANTHROPIC"] },
        ollama: { kind: "ollama", baseUrl: fakes.ollama.url },
      },
      routes: { auto: { tiers: [`openai/${MODEL.openai}`] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url, headers: { "x-tandem-sensitivity": "public" } });
});

after(async () => {
  await tandem?.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

function endsWithToolResult(request: RecordedRequest): boolean {
  const body = request.body as { messages?: { role: string; content: unknown }[]; input?: unknown[] };
  const messages = body.messages ?? [];
  const last = messages[messages.length - 1];
  if (!last) return false;
  if (last.role === "tool") return true;
  return Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === "tool_result");
}

const weatherScript: FakeScript = (request) =>
  endsWithToolResult(request)
    ? { kind: "text", text: "Sunny in Paris.", usage: { input: 30, output: 6 } }
    : { kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }], usage: { input: 20, output: 9 } };

const Answer = z.object({ city: z.string(), degrees: z.number() });
const ANSWER_JSON = '{"city":"Paris","degrees":21}';

for (const kind of KINDS) {
  const model = `${kind}/${MODEL[kind]}`;

  describe(`${kind} upstream: the openai SDK's chat helpers`, () => {
    it("chat.completions.runTools runs the function and ends with the upstream's answer", async () => {
      fakes[kind].script(weatherScript);
      const calls: string[] = [];
      const runner = openai.chat.completions.runTools({
        model,
        messages: [{ role: "user", content: "Weather in Paris?" }],
        stream: true,
        stream_options: { include_usage: true },
        tools: [
          runnableWeatherTool((city) => {
            calls.push(city);
            return "21 degrees";
          }),
        ],
      });
      const content = await runner.finalContent();
      assert.deepEqual(calls, ["Paris"]);
      assert.equal(content, "Sunny in Paris.");
      const usage = await runner.totalUsage();
      assert.ok(usage.completion_tokens > 0);
    });

    it("chat.completions.stream with a tool: finalChatCompletion has the call, its id and arguments", async () => {
      fakes[kind].script(weatherScript);
      const stream = openai.chat.completions.stream({
        model,
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [
          {
            type: "function",
            function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
          },
        ],
      });
      const done: string[] = [];
      stream.on("tool_calls.function.arguments.done", (event) => done.push(event.name));
      const final = await stream.finalChatCompletion();
      const call = final.choices[0]?.message.tool_calls?.[0];
      assert.equal(final.choices[0]?.finish_reason, "tool_calls");
      assert.equal(call?.type, "function");
      assert.ok(call?.id);
      assert.deepEqual(call?.type === "function" && JSON.parse(call.function.arguments), { city: "Paris" });
      assert.deepEqual(done, ["get_weather"]);
    });

    it("chat.completions.parse with zodResponseFormat, and the same streamed", async () => {
      fakes[kind].script(() => ({ kind: "text", text: ANSWER_JSON, chunks: ['{"city":"Pa', 'ris","degrees":21}'] }));
      const parsed = await openai.chat.completions.parse({
        model,
        messages: [{ role: "user", content: "Weather?" }],
        response_format: zodResponseFormat(Answer, "answer"),
      });
      assert.deepEqual(parsed.choices[0]?.message.parsed, { city: "Paris", degrees: 21 });
      const stream = openai.chat.completions.stream({
        model,
        messages: [{ role: "user", content: "Weather?" }],
        response_format: zodResponseFormat(Answer, "answer"),
      });
      const final = await stream.finalChatCompletion();
      assert.deepEqual(final.choices[0]?.message.parsed, { city: "Paris", degrees: 21 });
    });
  });

  describe(`${kind} upstream: the openai SDK's Responses helpers`, () => {
    it("responses.stream with a function tool: finalResponse has the call; events in order with indices", async () => {
      fakes[kind].script(weatherScript);
      const stream = openai.responses.stream({
        model,
        input: "Weather in Paris?",
        tools: [{ type: "function", name: "get_weather", strict: false, parameters: { type: "object", properties: {} } }],
      });
      let last = -1;
      for await (const event of stream) {
        assert.ok(event.sequence_number > last, `${event.type} out of sequence`);
        last = event.sequence_number;
      }
      const final = await stream.finalResponse();
      assert.equal(final.status, "completed");
      const call = final.output.find((item) => item.type === "function_call");
      assert.equal(call?.type === "function_call" && call.name, "get_weather");
      assert.deepEqual(call?.type === "function_call" && JSON.parse(call.arguments), { city: "Paris" });
      assert.ok(final.usage && final.usage.output_tokens > 0);
    });

    it("responses.parse with zodTextFormat, and responses.stream of the same", async () => {
      fakes[kind].script(() => ({ kind: "text", text: ANSWER_JSON, chunks: ['{"city":"Pa', 'ris","degrees":21}'] }));
      const parsed = await openai.responses.parse({
        model,
        input: "Weather?",
        text: { format: zodTextFormat(Answer, "answer") },
      });
      assert.deepEqual(parsed.output_parsed, { city: "Paris", degrees: 21 });
      const stream = openai.responses.stream({ model, input: "Weather?", text: { format: zodTextFormat(Answer, "answer") } });
      const final = await stream.finalResponse();
      assert.deepEqual(final.output_parsed, { city: "Paris", degrees: 21 });
    });
  });

  describe(`${kind} upstream: @anthropic-ai/sdk`, () => {
    it("messages.stream().finalMessage() with thinking and then a tool call", async () => {
      fakes[kind].script((request) =>
        endsWithToolResult(request)
          ? { kind: "text", text: "Sunny.", reasoning: "The tool said sunny.", usage: { input: 30, output: 6 } }
          : {
              kind: "tool_calls",
              calls: [{ name: "get_weather", arguments: { city: "Paris" } }],
              usage: { input: 20, output: 9 },
            },
      );
      const tools: Anthropic.Tool[] = [
        { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ];
      const first = await anthropic.messages
        .stream({ model, max_tokens: 256, tools, messages: [{ role: "user", content: "Weather in Paris?" }] })
        .finalMessage();
      assert.equal(first.stop_reason, "tool_use");
      const use = first.content.find((b) => b.type === "tool_use");
      assert.equal(use?.type === "tool_use" && use.name, "get_weather");
      assert.deepEqual(use?.type === "tool_use" && use.input, { city: "Paris" });
      assert.ok(first.usage.output_tokens > 0);
      const second = await anthropic.messages
        .stream({
          model,
          max_tokens: 2048,
          tools,
          thinking: { type: "enabled", budget_tokens: 1024 },
          messages: [
            { role: "user", content: "Weather in Paris?" },
            { role: "assistant", content: first.content },
            { role: "user", content: [{ type: "tool_result", tool_use_id: (use as Anthropic.ToolUseBlock).id, content: "21" }] },
          ],
        })
        .finalMessage();
      assert.equal(second.stop_reason, "end_turn");
      const text = second.content.filter((b) => b.type === "text").map((b) => (b as Anthropic.TextBlock).text);
      assert.deepEqual(text, ["Sunny."]);
      const thinking = second.content.find((b) => b.type === "thinking");
      assert.equal(thinking?.type === "thinking" && thinking.thinking, "The tool said sunny.");
    });

    it("messages.countTokens answers input_tokens", async () => {
      const counted = await anthropic.messages.countTokens({ model, messages: [{ role: "user", content: "Hello there" }] });
      assert.ok(Number.isInteger(counted.input_tokens) && counted.input_tokens > 0);
    });
  });

  describe(`${kind} upstream: the ollama SDK`, () => {
    it("chat streamed with think: thinking and content arrive, the last part is done with counts", async () => {
      fakes[kind].script(() => ({
        kind: "text",
        text: "Hello there.",
        reasoning: "Greet back.",
        usage: { input: 5, output: 3 },
      }));
      let thinking = "";
      let content = "";
      let last: { done: boolean; eval_count?: number; done_reason?: string } | undefined;
      for await (const part of await ollama.chat({
        model,
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
        think: true,
      })) {
        thinking += part.message.thinking ?? "";
        content += part.message.content;
        last = part;
      }
      assert.equal(thinking, "Greet back.");
      assert.equal(content, "Hello there.");
      assert.equal(last?.done, true);
      assert.equal(last?.done_reason, "stop");
      assert.equal(last?.eval_count, 3);
    });

    // An Ollama upstream is sent the client's /api/generate body as it is (passthrough-ollama.test.ts;
    // the fake Ollama here speaks /api/chat only).
    it("generate with think, streamed and not", { skip: kind === "ollama" }, async () => {
      fakes[kind].script(() => ({
        kind: "text",
        text: "Hello there.",
        reasoning: "Greet back.",
        usage: { input: 5, output: 3 },
      }));
      const whole = await ollama.generate({ model, prompt: "Hi", think: true, stream: false });
      assert.equal(whole.response, "Hello there.");
      assert.equal(whole.thinking, "Greet back.");
      let thinking = "";
      let response = "";
      for await (const part of await ollama.generate({ model, prompt: "Hi", think: true, stream: true })) {
        thinking += part.thinking ?? "";
        response += part.response;
      }
      assert.equal(response, "Hello there.");
      assert.equal(thinking, "Greet back.");
    });
  });
}
