/**
 * @anthropic-ai/sdk's tool runner (client.beta.messages.toolRunner) holds its conversation in a
 * server-side thread: the first turn sends `thread: {"type": "create"}` and the whole conversation,
 * every later turn `thread: {"type": "continue", "previous_message_id"}` and only the new messages (the
 * tool results). tandem holds no Anthropic threads (and routes, classifies and fails over on the whole
 * conversation), so a continued thread must be "not found" in Anthropic's own terms (404,
 * `error.details.error_code: "thread_not_found"`): the SDK then replays the whole conversation under a
 * new thread and the run goes on. Any other answer (a 400 about a tool_result without its tool_use)
 * ends the run with an error.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { betaZodTool } from "@anthropic-ai/sdk/helpers/beta/zod";
import { z } from "zod";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeScript, FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeUpstream;
let anthropicUp: FakeUpstream;
let tandem: RunningTandem;
let client: Anthropic;

before(async () => {
  [openai, anthropicUp] = await Promise.all([startFakeOpenAI({ models: ["gpt"] }), startFakeAnthropic({ models: ["claude"] })]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, local: false, apiKeys: ["env:K"] },
        anthropic: { kind: "anthropic", baseUrl: anthropicUp.url, local: false, apiKeys: ["env:K"] },
      },
      routes: { auto: { tiers: ["openai/gpt"] } },
    },
    { env: { K: "sk-up" } },
  );
  client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropicUp?.close()]);
});

function endsWithToolResult(request: RecordedRequest): boolean {
  const messages = (request.body as { messages: { role: string; content: unknown }[] }).messages;
  const last = messages[messages.length - 1];
  if (last?.role === "tool") return true;
  return Array.isArray(last?.content) && last.content.some((b: { type?: string }) => b.type === "tool_result");
}

const script: FakeScript = (request) =>
  endsWithToolResult(request)
    ? { kind: "text", text: "It is 21 degrees in Paris." }
    : { kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] };

describe("the Anthropic SDK's tool runner, which continues a server-side thread", () => {
  for (const model of ["openai/gpt", "anthropic/claude"]) {
    it(`runs to its end through ${model}: the continued thread is not found, and the SDK replays the conversation`, async () => {
      openai.script(script);
      anthropicUp.script(script);
      const cities: string[] = [];
      const runner = client.beta.messages.toolRunner({
        model,
        max_tokens: 256,
        max_iterations: 4,
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [
          betaZodTool({
            name: "get_weather",
            description: "Current weather for a city",
            inputSchema: z.object({ city: z.string() }),
            run: async ({ city }) => {
              cities.push(city);
              return "21 degrees";
            },
          }),
        ],
      });
      const texts: string[] = [];
      for await (const message of runner) {
        for (const block of message.content) if (block.type === "text") texts.push(block.text);
      }
      assert.deepEqual(cities, ["Paris"]);
      assert.deepEqual(texts, ["It is 21 degrees in Paris."]);
    });
  }

  it("a continued thread is a 404 thread_not_found in Anthropic's shape (the SDK's ThreadNotFoundError), nothing sent upstream", async () => {
    const before = openai.requests.length;
    await assert.rejects(
      client.beta.messages.create({
        model: "openai/gpt",
        max_tokens: 64,
        messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "21" }] }],
        thread: { type: "continue", previous_message_id: "msg_1" },
      } as Anthropic.Beta.MessageCreateParamsNonStreaming),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.ThreadNotFoundError, String(err));
        assert.equal(err.status, 404);
        return true;
      },
    );
    assert.equal(openai.requests.length, before);
  });
});
