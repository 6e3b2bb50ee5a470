/**
 * Every client dialect against every provider kind (3 x 3), through a real tandem server, with the
 * official SDK clients and fake upstreams that speak each provider's real wire format: plain answers
 * streamed and not, and a full tool-call round trip.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama, type Message as OllamaMessage } from "ollama";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeScript, FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const KINDS = ["openai", "anthropic", "ollama"] as const;
type Kind = (typeof KINDS)[number];
const MODEL: Record<Kind, string> = { openai: "gpt-4o-mini", anthropic: "claude-haiku-4-5", ollama: "llama3.2:latest" };
const ANSWER = "The quick brown fox jumps over the lazy dog.";

const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

/** True when the upstream request ends with a tool result, in any of the three wire formats. */
function endsWithToolResult(request: RecordedRequest): boolean {
  const messages = (request.body as { messages?: { role: string; content: unknown }[] }).messages ?? [];
  const last = messages[messages.length - 1];
  if (!last) return false;
  if (last.role === "tool") return true;
  return Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === "tool_result");
}

/** The text of the tool result the upstream received, in any of the three wire formats. */
function toolResultText(request: RecordedRequest): string {
  const messages = (request.body as { messages: { role: string; content: unknown }[] }).messages;
  const last = messages[messages.length - 1] as { content: unknown };
  if (typeof last.content === "string") return last.content;
  const block = (last.content as { type: string; content?: unknown; text?: string }[]).find((b) => b.type === "tool_result");
  const content = block?.content ?? (last.content as { text?: string }[])[0]?.text;
  if (typeof content === "string") return content;
  return (content as { text: string }[]).map((c) => c.text).join("");
}

const toolScript: FakeScript = (request) =>
  endsWithToolResult(request)
    ? { kind: "text", text: `Weather says: ${toolResultText(request)}`, usage: { input: 30, output: 6 } }
    : { kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }], usage: { input: 20, output: 9 } };

const fakes = {} as Record<Kind, FakeUpstream>;
let tandem: RunningTandem;

before(async () => {
  [fakes.openai, fakes.anthropic, fakes.ollama] = await Promise.all([
    startFakeOpenAI({ models: [MODEL.openai] }),
    startFakeAnthropic({ models: [MODEL.anthropic] }),
    startFakeOllama({ models: [MODEL.ollama] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: fakes.openai.url, apiKeys: ["env:UP_OPENAI"] },
        anthropic: { kind: "anthropic", baseUrl: fakes.anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        ollama: { kind: "ollama", baseUrl: fakes.ollama.url },
      },
      routes: { auto: { tiers: [`openai/${MODEL.openai}`] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" } },
  );
});

after(async () => {
  await tandem?.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

function textScript(): FakeScript {
  return () => ({ kind: "text", text: ANSWER, usage: { input: 12, output: 10 } });
}

for (const kind of KINDS) {
  const target = () => `${kind}/${MODEL[kind]}`;

  describe(`provider ${kind}`, () => {
    it("OpenAI client, not streamed", async () => {
      fakes[kind].script(textScript());
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const { data, response } = await client.chat.completions
        .create({
          model: target(),
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "Hi" },
          ],
        })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, ANSWER);
      assert.equal(data.choices[0]?.finish_reason, "stop");
      assert.equal(data.model, target());
      assert.equal(data.usage?.prompt_tokens, 12);
      assert.equal(data.usage?.completion_tokens, 10);
      assert.equal(response.headers.get("x-tandem-target"), target());
      assert.equal(response.headers.get("x-tandem-attempts"), "1");
      assert.equal(response.headers.get("x-tandem-degraded"), "false");
    });

    it("OpenAI client, streamed with usage", async () => {
      fakes[kind].script(textScript());
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: target(),
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let chunks = 0;
      let finish: string | null | undefined;
      let usage: { completion_tokens: number } | undefined | null;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, ANSWER);
      assert.ok(chunks > 3, `expected the answer in several chunks, got ${chunks}`);
      assert.equal(finish, "stop");
      assert.equal(usage?.completion_tokens, 10);
    });

    it("Anthropic client, not streamed and streamed", async () => {
      fakes[kind].script(textScript());
      const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
      const { data, response } = await client.messages
        .create({ model: target(), max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Hi" }] })
        .withResponse();
      assert.deepEqual(
        data.content.map((b) => (b.type === "text" ? b.text : b.type)),
        [ANSWER],
      );
      assert.equal(data.stop_reason, "end_turn");
      assert.equal(data.usage.output_tokens, 10);
      assert.equal(response.headers.get("x-tandem-target"), target());

      const stream = client.messages.stream({ model: target(), max_tokens: 100, messages: [{ role: "user", content: "Hi" }] });
      let deltas = 0;
      stream.on("text", () => deltas++);
      const final = await stream.finalMessage();
      assert.equal(final.content[0]?.type === "text" && final.content[0].text, ANSWER);
      assert.equal(final.stop_reason, "end_turn");
      assert.equal(final.usage.output_tokens, 10);
      assert.ok(deltas > 3, `expected several text deltas, got ${deltas}`);
    });

    it("Ollama client, not streamed and streamed", async () => {
      fakes[kind].script(textScript());
      const ollama = new Ollama({ host: tandem.url });
      const whole = await ollama.chat({ model: target(), messages: [{ role: "user", content: "Hi" }], stream: false });
      assert.equal(whole.message.content, ANSWER);
      assert.equal(whole.done, true);
      assert.equal(whole.done_reason, "stop");
      assert.equal(whole.eval_count, 10);
      const parts = await ollama.chat({ model: target(), messages: [{ role: "user", content: "Hi" }], stream: true });
      let text = "";
      let count = 0;
      let last: { done: boolean; done_reason?: string } | undefined;
      for await (const part of parts) {
        count++;
        text += part.message.content;
        last = part;
      }
      assert.equal(text, ANSWER);
      assert.ok(count > 3);
      assert.equal(last?.done, true);
    });

    it("tool-call round trip through the OpenAI client", async () => {
      fakes[kind].script(toolScript);
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const tools = [{ type: "function" as const, function: weatherTool }];
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
      const first = await client.chat.completions.create({ model: target(), messages, tools, stream: true });
      const calls: { id: string; name: string; args: string }[] = [];
      let finish: string | null | undefined;
      for await (const chunk of first) {
        for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) {
          if (tc.id) calls[tc.index] = { id: tc.id, name: tc.function?.name ?? "", args: "" };
          const call = calls[tc.index];
          if (call) call.args += tc.function?.arguments ?? "";
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(finish, "tool_calls");
      assert.equal(calls.length, 1);
      const call = calls[0]!;
      assert.equal(call.name, "get_weather");
      assert.deepEqual(JSON.parse(call.args), { city: "Paris" });
      messages.push({
        role: "assistant",
        content: null,
        tool_calls: [{ id: call.id, type: "function", function: { name: call.name, arguments: call.args } }],
      });
      messages.push({ role: "tool", tool_call_id: call.id, content: "21C and sunny" });
      const second = await client.chat.completions.create({ model: target(), messages, tools });
      assert.equal(second.choices[0]?.message.content, "Weather says: 21C and sunny");
      assertToolHistoryReachedUpstream(kind, call.id);
    });

    it("tool-call round trip through the Anthropic client", async () => {
      fakes[kind].script(toolScript);
      const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
      const tools = [
        {
          name: weatherTool.name,
          description: weatherTool.description,
          input_schema: weatherTool.parameters as Anthropic.Tool.InputSchema,
        },
      ];
      const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
      const first = await client.messages.stream({ model: target(), max_tokens: 200, messages, tools }).finalMessage();
      assert.equal(first.stop_reason, "tool_use");
      const use = first.content.find((b) => b.type === "tool_use");
      assert.ok(use && use.type === "tool_use");
      assert.equal(use.name, "get_weather");
      assert.deepEqual(use.input, { city: "Paris" });
      messages.push({ role: "assistant", content: first.content });
      messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "21C and sunny" }] });
      const second = await client.messages.create({ model: target(), max_tokens: 200, messages, tools });
      assert.equal(second.content[0]?.type === "text" && second.content[0].text, "Weather says: 21C and sunny");
      assertToolHistoryReachedUpstream(kind, use.id);
    });

    it("tool-call round trip through the Ollama client", async () => {
      fakes[kind].script(toolScript);
      const ollama = new Ollama({ host: tandem.url });
      const tools = [{ type: "function", function: weatherTool }];
      const messages: (OllamaMessage & { tool_name?: string })[] = [{ role: "user", content: "Weather in Paris?" }];
      const first = await ollama.chat({ model: target(), messages, tools, stream: false });
      const call = first.message.tool_calls?.[0];
      assert.ok(call, "expected a tool call");
      assert.equal(call.function.name, "get_weather");
      assert.deepEqual(call.function.arguments, { city: "Paris" });
      messages.push(first.message);
      messages.push({ role: "tool", content: "21C and sunny", tool_name: "get_weather" });
      const second = await ollama.chat({ model: target(), messages, tools, stream: true });
      let text = "";
      for await (const part of second) text += part.message.content;
      assert.equal(text, "Weather says: 21C and sunny");
      assertToolHistoryReachedUpstream(kind, undefined);
    });
  });
}

/** The upstream saw the assistant's tool call and the result, with consistent ids where its API has ids. */
function assertToolHistoryReachedUpstream(kind: Kind, clientCallId: string | undefined): void {
  const last = fakes[kind].requests.filter((r) => r.method === "POST").at(-1);
  assert.ok(last, "upstream saw no request");
  const messages = (last.body as { messages: Record<string, unknown>[] }).messages;
  if (kind === "openai") {
    const assistant = messages.find((m) => m.role === "assistant") as { tool_calls: { id: string }[] };
    const tool = messages.find((m) => m.role === "tool") as { tool_call_id: string };
    assert.equal(tool.tool_call_id, assistant.tool_calls[0]?.id);
    // An Anthropic client's toolu_ id is the upstream's own behind that prefix.
    if (clientCallId) assert.equal(tool.tool_call_id, clientCallId.replace(/^toolu_/, ""));
  } else if (kind === "anthropic") {
    const assistant = messages.find((m) => m.role === "assistant") as { content: { type: string; id?: string }[] };
    const use = assistant.content.find((b) => b.type === "tool_use");
    const user = messages.at(-1) as { content: { type: string; tool_use_id?: string }[] };
    const result = user.content.find((b) => b.type === "tool_result");
    assert.ok(use?.id && result);
    assert.equal(result.tool_use_id, use.id);
    if (clientCallId) assert.equal(use.id, clientCallId);
  } else {
    const assistant = messages.find((m) => m.role === "assistant") as { tool_calls: { function: { name: string } }[] };
    const tool = messages.find((m) => m.role === "tool") as { tool_name?: string };
    assert.equal(assistant.tool_calls[0]?.function.name, "get_weather");
    assert.equal(tool.tool_name, "get_weather");
  }
}

describe("a stream that breaks after it started", () => {
  for (const kind of KINDS) {
    const target = () => `${kind}/${MODEL[kind]}`;
    const broken: FakeScript = () => ({ kind: "broken_stream", chunks: ["The quick ", "brown "] });

    it(`${kind} upstream: each client gets the partial text and then an error in its own dialect, not a clean end`, async () => {
      fakes[kind].script(broken);
      const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      let text = "";
      await assert.rejects(async () => {
        const stream = await openai.chat.completions.create({
          model: target(),
          messages: [{ role: "user", content: "Hi" }],
          stream: true,
        });
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      }, /broke off|ended before/);
      assert.equal(text, "The quick brown ");

      const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
      const stream = anthropic.messages.stream({ model: target(), max_tokens: 50, messages: [{ role: "user", content: "Hi" }] });
      let anthropicText = "";
      stream.on("text", (t) => {
        anthropicText += t;
      });
      await assert.rejects(stream.finalMessage(), /broke off|ended before/);
      assert.equal(anthropicText, "The quick brown ");

      const ollama = new Ollama({ host: tandem.url });
      let ollamaText = "";
      await assert.rejects(async () => {
        for await (const part of await ollama.chat({
          model: target(),
          messages: [{ role: "user", content: "Hi" }],
          stream: true,
        })) {
          ollamaText += part.message.content;
        }
      }, /broke off|ended before/);
      assert.equal(ollamaText, "The quick brown ");
    });

    it(`${kind} upstream: a client that did not stream gets a 502 in its dialect`, async () => {
      fakes[kind].script(broken);
      const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      await assert.rejects(
        openai.chat.completions.create({ model: target(), messages: [{ role: "user", content: "Hi" }] }),
        (err: unknown) => {
          assert.ok(err instanceof OpenAI.APIError);
          assert.equal(err.status, 502);
          return true;
        },
      );
    });
  }
});

/** A 1x1 transparent PNG. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

describe("images and parallel tool calls across dialects", () => {
  for (const kind of KINDS) {
    const target = () => `${kind}/${MODEL[kind]}`;

    it(`an OpenAI client's data-URL image reaches the ${kind} upstream in its own image format`, async () => {
      fakes[kind].script(textScript());
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      await client.chat.completions.create({
        model: target(),
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
            ],
          },
        ],
      });
      const sent = fakes[kind].requests.at(-1)?.body as { messages: Record<string, unknown>[] };
      const user = sent.messages.at(-1) as Record<string, unknown>;
      if (kind === "openai") {
        const parts = user.content as { type: string; image_url?: { url: string } }[];
        assert.equal(parts.find((p) => p.type === "image_url")?.image_url?.url, `data:image/png;base64,${PNG_BASE64}`);
      } else if (kind === "anthropic") {
        const blocks = user.content as { type: string; source?: { type: string; media_type: string; data: string } }[];
        assert.deepEqual(blocks.find((b) => b.type === "image")?.source, {
          type: "base64",
          media_type: "image/png",
          data: PNG_BASE64,
        });
      } else {
        assert.deepEqual(user.images, [PNG_BASE64]);
        assert.equal(user.content, "What is this?");
      }
    });

    it(`two parallel tool calls from the ${kind} upstream reach an Anthropic client as two tool_use blocks, and back`, async () => {
      fakes[kind].script((request) =>
        endsWithToolResult(request)
          ? { kind: "text", text: "Both done." }
          : {
              kind: "tool_calls",
              calls: [
                { name: "get_weather", arguments: { city: "Paris" } },
                { name: "get_weather", arguments: { city: "Oslo" } },
              ],
            },
      );
      const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
      const tools = [
        {
          name: weatherTool.name,
          description: weatherTool.description,
          input_schema: weatherTool.parameters as Anthropic.Tool.InputSchema,
        },
      ];
      const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Paris and Oslo?" }];
      const first = await client.messages.stream({ model: target(), max_tokens: 200, messages, tools }).finalMessage();
      const uses = first.content.filter((b) => b.type === "tool_use");
      assert.deepEqual(
        uses.map((u) => u.input),
        [{ city: "Paris" }, { city: "Oslo" }],
      );
      assert.notEqual(uses[0]?.id, uses[1]?.id);
      messages.push({ role: "assistant", content: first.content });
      messages.push({
        role: "user",
        content: uses.map((u, i) => ({ type: "tool_result" as const, tool_use_id: u.id, content: i === 0 ? "21C" : "3C" })),
      });
      const second = await client.messages.create({ model: target(), max_tokens: 200, messages, tools });
      assert.equal(second.content[0]?.type === "text" && second.content[0].text, "Both done.");
      const sent = fakes[kind].requests.at(-1)?.body as { messages: Record<string, unknown>[] };
      const results = JSON.stringify(sent.messages.slice(-2));
      assert.match(results, /21C/);
      assert.match(results, /3C/);
    });
  }
});
