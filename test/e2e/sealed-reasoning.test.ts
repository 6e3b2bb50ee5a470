/**
 * A Responses upstream's sealed reasoning (`encrypted_content`) crosses the canonical form: an
 * Anthropic client (Claude Code in a tool loop) gets it in its thinking block's signature and sends
 * it back, and the next turn gives the reasoning model its own reasoning item again, as OpenAI asks
 * for a stateless tool loop. Only the upstream provider that sealed it is given it: another target
 * (an Anthropic upstream, which would refuse the signature, or another Responses provider) is sent
 * none, with a warning. Through the official Anthropic SDK, streamed and whole.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeResponsesUpstream, sealed, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let gpt: FakeResponsesUpstream;
let other: FakeResponsesUpstream;
let claude: FakeAnthropic;
let tandem: RunningTandem;
let anthropic: Anthropic;

const REASONING = "The user wants the weather: I should call the tool.";
const MARK = "tandem.sealed-reasoning:";

before(async () => {
  [gpt, other, claude] = await Promise.all([
    startFakeOpenAIResponses({ models: ["gpt-5-mini"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  const call = () => ({
    kind: "answer" as const,
    reasoning: REASONING,
    calls: [{ name: "get_weather", arguments: '{"city":"Oslo"}' }],
  });
  gpt.script(call);
  other.script(call);
  tandem = await startTandem(
    {
      providers: {
        gpt: { kind: "openai", baseUrl: gpt.url, responses: "only", models: ["gpt-5-mini"] },
        other: { kind: "openai", baseUrl: other.url, responses: "only", models: ["gpt-5-mini"] },
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP_ANTHROPIC"], models: ["claude-haiku-4-5"] },
      },
    },
    { env: { UP_ANTHROPIC: "sk-ant-upstream" } },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([gpt?.close(), other?.close(), claude?.close()]);
});

const tools = [
  {
    name: "get_weather",
    description: "The weather in a city",
    input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
  },
];

const first = {
  model: "gpt/gpt-5-mini",
  max_tokens: 4000,
  thinking: { type: "enabled" as const, budget_tokens: 2048 },
  tools,
  messages: [{ role: "user" as const, content: "What is the weather in Oslo?" }],
};

type Block = Anthropic.ContentBlock;

/** The tool loop's next request: the answer's blocks as the client keeps them, and the tool's result. */
function followUp(model: string, content: Block[]): Anthropic.MessageCreateParamsNonStreaming {
  const call = content.find((b) => b.type === "tool_use");
  assert.ok(call?.type === "tool_use");
  return {
    ...first,
    model,
    messages: [
      ...first.messages,
      { role: "assistant", content: content as Anthropic.ContentBlockParam[] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Sunny, 21 C" }] },
    ],
  };
}

function lastBody(fake: { responseBodies: Record<string, unknown>[] }): Record<string, unknown> {
  const body = fake.responseBodies.at(-1);
  assert.ok(body, "the upstream saw a request");
  return body;
}

describe("Anthropic client -> Responses upstream: sealed reasoning crosses in the thinking signature", () => {
  it("streamed: the thinking block shows the summary and carries the sealed reasoning, marked with its maker", async () => {
    const message = await anthropic.messages.stream(first).finalMessage();
    assert.deepEqual(lastBody(gpt).include, ["reasoning.encrypted_content"]);
    const [thinking, call] = message.content;
    assert.ok(thinking?.type === "thinking");
    assert.equal(thinking.thinking, REASONING);
    assert.equal(thinking.signature, `${MARK}gpt%2Fgpt-5-mini:${sealed(REASONING)}`);
    assert.equal(call?.type, "tool_use");
  });

  it("whole: the same block", async () => {
    const message = await anthropic.messages.create(first);
    const [thinking] = message.content;
    assert.ok(thinking?.type === "thinking");
    assert.equal(thinking.thinking, REASONING);
    assert.equal(thinking.signature, `${MARK}gpt%2Fgpt-5-mini:${sealed(REASONING)}`);
  });

  it("with the thinking's text omitted (Claude Code's display: omitted): the block with empty text, still sealed", async () => {
    const omitted = { ...first, thinking: { type: "adaptive" as const, display: "omitted" as const } };
    const streamed = await anthropic.messages.stream(omitted).finalMessage();
    const whole = await anthropic.messages.create(omitted);
    for (const message of [streamed, whole]) {
      assert.deepEqual(
        message.content.map((block) => block.type),
        ["thinking", "tool_use"],
      );
      assert.deepEqual(message.content[0], {
        type: "thinking",
        thinking: "",
        signature: `${MARK}gpt%2Fgpt-5-mini:${sealed(REASONING)}`,
      });
    }
    await anthropic.messages.create({ ...followUp("gpt/gpt-5-mini", streamed.content), thinking: omitted.thinking });
    const input = lastBody(gpt).input as Record<string, unknown>[];
    assert.deepEqual(input[1], { type: "reasoning", encrypted_content: sealed(REASONING), summary: [] });
  });

  it("the next turn gives the upstream that sealed it its reasoning item, before the call, without a warning", async () => {
    const answer = await anthropic.messages.stream(first).finalMessage();
    const { response } = await anthropic.messages.create(followUp("gpt/gpt-5-mini", answer.content)).withResponse();
    const input = lastBody(gpt).input as Record<string, unknown>[];
    const types = input.map((item) => item.type);
    assert.deepEqual(types, ["message", "reasoning", "function_call", "function_call_output"]);
    assert.deepEqual(input[1], {
      type: "reasoning",
      encrypted_content: sealed(REASONING),
      summary: [{ type: "summary_text", text: REASONING }],
    });
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning/);
  });

  it("another Responses provider is not given it, and the warning says so", async () => {
    const answer = await anthropic.messages.create(first);
    const { response } = await anthropic.messages.create(followUp("other/gpt-5-mini", answer.content)).withResponse();
    const types = (lastBody(other).input as Record<string, unknown>[]).map((item) => item.type);
    assert.deepEqual(types, ["message", "function_call", "function_call_output"]);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning/);
  });

  it("an Anthropic upstream (the same wire) is not sent the block, which it would refuse, and the warning says so", async () => {
    claude.script(() => ({ kind: "text", text: "It is sunny.", usage: { input: 10, output: 5 } }));
    const answer = await anthropic.messages.create(first);
    const { response } = await anthropic.messages.create(followUp("claude/claude-haiku-4-5", answer.content)).withResponse();
    const sent = claude.requests.filter((r) => r.method === "POST").at(-1)?.body as { messages: { content: unknown }[] };
    assert.doesNotMatch(JSON.stringify(sent.messages), /tandem\.sealed-reasoning|"type":"thinking"/);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning/);
  });

  it("a sealed signature a client changed so that it no longer reads is taken as unsigned thinking: nothing sealed is sent", async () => {
    const answer = await anthropic.messages.create(first);
    const broken = answer.content.map((block) =>
      block.type === "thinking" ? { ...block, signature: `${MARK}gpt%2Fgpt-5-mini:` } : block,
    );
    await anthropic.messages.create(followUp("gpt/gpt-5-mini", broken));
    const types = (lastBody(gpt).input as Record<string, unknown>[]).map((item) => item.type);
    assert.deepEqual(types, ["message", "function_call", "function_call_output"]);
  });
});
