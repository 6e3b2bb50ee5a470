/**
 * What the newest Messages API sends and answers, through tandem on the same wire (an Anthropic SDK
 * client, an Anthropic upstream) and across wires: a turn a server tool paused (`pause_turn`, often
 * with no text) is the upstream's answer, not an empty one; a block type this build does not know
 * goes on to an Anthropic target as it came (one the upstream answered with comes back next turn);
 * the interleaved-thinking beta lets a thinking budget exceed max_tokens, as Anthropic does; an
 * answer's citations sent back to another wire are named as left out.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { anthropicFrame, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CLAUDE = "claude/claude-sonnet-4-5";
let anthropic: FakeAnthropic;
let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: Anthropic;

before(async () => {
  [anthropic, openai] = await Promise.all([
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        claude: {
          kind: "anthropic",
          baseUrl: anthropic.url,
          apiKeys: ["env:UP_ANTHROPIC"],
          local: false,
          models: ["claude-sonnet-4-5"],
        },
        oai: { kind: "openai", baseUrl: `${openai.url}`, models: ["gpt-4o-mini"] },
      },
      breaker: { failureThreshold: 1000, cooldownMs: 1000 },
      routes: {
        auto: { tiers: [CLAUDE], retry: { attempts: 1 } },
        whole: { tiers: [CLAUDE], streamUpstream: false, retry: { attempts: 1 } },
      },
    },
    { env: { UP_ANTHROPIC: "sk-ant-test" } },
  );
  client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([anthropic?.close(), openai?.close()]);
});

/** A message whose content is these blocks, ending with `stopReason`: as JSON, or as Anthropic streams it. */
function answer(blocks: Record<string, unknown>[], stopReason: string, stream: boolean) {
  const message = {
    id: "msg_new1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: blocks,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: 9 },
  };
  if (!stream) return { kind: "raw" as const, body: JSON.stringify(message) };
  const frames = [anthropicFrame("message_start", { message: { ...message, content: [], stop_reason: null } })];
  blocks.forEach((block, index) => {
    frames.push(anthropicFrame("content_block_start", { index, content_block: block }));
    frames.push(anthropicFrame("content_block_stop", { index }));
  });
  frames.push(
    anthropicFrame("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 9 } }),
    anthropicFrame("message_stop", {}),
  );
  return { kind: "sse" as const, body: frames.join("") };
}

const SEARCH = { type: "server_tool_use", id: "srvtoolu_01", name: "web_search", input: { query: "tandem gateway" } };
const RESULTS = {
  type: "web_search_tool_result",
  tool_use_id: "srvtoolu_01",
  content: [
    { type: "web_search_result", url: "https://example.com/", title: "Example", encrypted_content: "EnC0", page_age: null },
  ],
};

describe("a turn a server tool paused", () => {
  for (const [route, stream] of [
    ["auto", false],
    ["auto", true],
    ["whole", false],
    [CLAUDE, true],
  ] as const) {
    it(`comes back as the upstream gave it, with no text (${route}, ${stream ? "streamed" : "whole"})`, async () => {
      anthropic.script((request) =>
        answer([SEARCH, RESULTS], "pause_turn", (request.body as { stream?: boolean }).stream === true),
      );
      const params = {
        model: route,
        max_tokens: 100,
        tools: [{ type: "web_search_20250305" as const, name: "web_search" as const }],
        messages: [{ role: "user" as const, content: "Search for tandem" }],
      };
      const message = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
      assert.equal(message.stop_reason, "pause_turn");
      assert.deepEqual(
        message.content.map((block) => block.type),
        ["server_tool_use", "web_search_tool_result"],
      );
    });
  }

  it("is not held to the JSON check of a structured output", async () => {
    anthropic.script((request) => answer([SEARCH], "pause_turn", (request.body as { stream?: boolean }).stream === true));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({
        model: CLAUDE,
        max_tokens: 100,
        tools: [{ type: "web_search_20250305", name: "web_search" }],
        output_config: { format: { type: "json_schema", schema: { type: "object" } } },
        messages: [{ role: "user", content: "Search, then answer in JSON" }],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { stop_reason: string }).stop_reason, "pause_turn");
  });
});

describe("a block type this build does not know", () => {
  const FUTURE = { type: "future_block_xyz", payload: { a: 1 } };

  it("goes on to an Anthropic target as it came, so the upstream's own block can go back next turn", async () => {
    anthropic.script((request) =>
      answer([FUTURE, { type: "text", text: "ok" }], "end_turn", (request.body as { stream?: boolean }).stream === true),
    );
    const first = await client.messages.create({ model: CLAUDE, max_tokens: 50, messages: [{ role: "user", content: "hi" }] });
    assert.deepEqual(first.content[0], FUTURE);
    anthropic.script(() => ({ kind: "text", text: "Next.", usage: { input: 5, output: 1 } }));
    const history = [
      { role: "user", content: "hi" },
      { role: "assistant", content: first.content },
      {
        role: "user",
        content: [
          { type: "text", text: "go on" },
          { type: "future_user_block", data: "x" },
        ],
      },
    ] as Anthropic.MessageParam[];
    const next = await client.messages.create({ model: CLAUDE, max_tokens: 50, messages: history });
    assert.equal(next.content[0]?.type === "text" && next.content[0].text, "Next.");
    const sent = anthropic.requests.at(-1)?.body as { messages: { content: unknown[] }[] };
    assert.deepEqual(sent.messages[1]?.content[0], FUTURE);
    assert.deepEqual(sent.messages[2]?.content[1], { type: "future_user_block", data: "x" });
  });

  it("is refused for a target on another wire, naming the block, never sent there", async () => {
    const before = openai.requests.length;
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "oai/gpt-4o-mini",
        max_tokens: 50,
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }, FUTURE] }],
      }),
    });
    assert.equal(res.status, 400);
    const error = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(error.error.type, "invalid_request_error");
    assert.match(error.error.message, /future_block_xyz/);
    assert.match(error.error.message, /messages\[0\]\.content\[1\]/);
    assert.equal(openai.requests.length, before);
  });

  it("is one only when its type is a string: a block without one is still a 400 naming it", async () => {
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: CLAUDE, max_tokens: 50, messages: [{ role: "user", content: [{ text: "no type" }] }] }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /messages\[0\]\.content\[0\]/);
  });
});

describe("a thinking budget above max_tokens", () => {
  const body = {
    model: CLAUDE,
    max_tokens: 2000,
    thinking: { type: "enabled", budget_tokens: 8000 },
    tools: [{ name: "f", input_schema: { type: "object" } }],
    messages: [{ role: "user", content: "hi" }],
  };
  const post = (beta?: string) =>
    fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(beta !== undefined && { "anthropic-beta": beta }) },
      body: JSON.stringify(body),
    });

  it("goes to Anthropic with the interleaved-thinking beta, which allows it", async () => {
    anthropic.script(() => ({ kind: "text", text: "Thought.", usage: { input: 5, output: 1 } }));
    const before = anthropic.requests.length;
    const res = await post("fine-grained-tool-streaming-2025-05-14, interleaved-thinking-2025-05-14");
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(anthropic.requests.length, before + 1);
    assert.deepEqual((anthropic.requests.at(-1)?.body as { thinking: unknown }).thinking, body.thinking);
  });

  it("is refused without it, as Anthropic refuses it", async () => {
    const res = await post();
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /max_tokens/);
  });
});

describe("an answer's citations sent back to another wire", () => {
  /** The warnings of a turn to an OpenAI target after an assistant turn of these blocks. */
  async function warningsAfter(assistant: Anthropic.TextBlockParam[]): Promise<string> {
    openai.script(() => ({ kind: "text", text: "More." }));
    const { response } = await client.messages
      .create({
        model: "oai/gpt-4o-mini",
        max_tokens: 50,
        messages: [
          { role: "user", content: "q" },
          { role: "assistant", content: assistant },
          { role: "user", content: "more" },
        ],
      })
      .withResponse();
    return response.headers.get("x-tandem-warnings") ?? "";
  }

  it("are named as left out", async () => {
    const citation = {
      type: "char_location" as const,
      cited_text: "g",
      document_index: 0,
      document_title: null,
      start_char_index: 0,
      end_char_index: 1,
    };
    assert.match(await warningsAfter([{ type: "text", text: "Cited.", citations: [citation] }]), /citations/);
  });

  it("are not named when there are none", async () => {
    assert.doesNotMatch(await warningsAfter([{ type: "text", text: "Plain." }]), /citations/);
  });
});

describe("an Anthropic answer's citations and server tool blocks, for a client on another wire", () => {
  const CITATION = {
    type: "web_search_result_location",
    cited_text: "tandem is a gateway",
    url: "https://example.com/",
    title: "Example",
    encrypted_index: "EnC1",
  };
  const CITED = [SEARCH, RESULTS, { type: "text", text: "A gateway.", citations: [CITATION] }];
  /** The answer as Anthropic streams it: the text block opens with no citations, which come as a citations_delta. */
  function streamedWithDelta() {
    const message = { id: "msg_c1", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [] };
    return {
      kind: "sse" as const,
      body: [
        anthropicFrame("message_start", {
          message: { ...message, stop_reason: null, stop_sequence: null, usage: { input_tokens: 20, output_tokens: 1 } },
        }),
        anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "", citations: [] } }),
        anthropicFrame("content_block_delta", { index: 0, delta: { type: "citations_delta", citation: CITATION } }),
        anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text: "A gateway." } }),
        anthropicFrame("content_block_delta", { index: 0, delta: { type: "citations_delta", citation: CITATION } }),
        anthropicFrame("content_block_stop", { index: 0 }),
        anthropicFrame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 9 } }),
        anthropicFrame("message_stop", {}),
      ].join(""),
    };
  }
  const chat = (model: string, stream: boolean) =>
    fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "What is tandem?" }] }),
    });

  for (const route of ["auto", "whole"]) {
    it(`are named in x-tandem-warnings of a whole chat completion, the text kept (${route})`, async () => {
      anthropic.script((request) => answer(CITED, "end_turn", (request.body as { stream?: boolean }).stream === true));
      const res = await chat(route, false);
      assert.equal(res.status, 200);
      const completion = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      assert.equal(completion.choices[0]?.message.content, "A gateway.");
      const warnings = res.headers.get("x-tandem-warnings") ?? "";
      assert.match(warnings, new RegExp(`citations of the answer from ${CLAUDE} not carried`));
      assert.match(warnings, /server_tool_use blocks of the answer/);
      assert.match(warnings, /web_search_tool_result blocks of the answer/);
      // Each once.
      assert.equal(warnings.split("citations of the answer").length, 2);
    });
  }

  it("are named at the end of a streamed chat completion, whose headers had left before them", async () => {
    anthropic.script(() => streamedWithDelta());
    const res = await chat("auto", true);
    const body = await res.text();
    assert.match(body, new RegExp(`: tandem warning: citations of the answer from ${CLAUDE} not carried\\n\\n`));
    assert.equal(body.split("tandem warning: citations").length, 2);
    assert.ok(body.indexOf("tandem warning") < body.indexOf("data: [DONE]"));
    assert.match(body, /A gateway\./);
  });

  it("are named in an Ollama client's final chunk", async () => {
    anthropic.script(() => streamedWithDelta());
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "What is tandem?" }] }),
    });
    const lines = (await res.text()).trim().split("\n");
    const last = JSON.parse(lines.at(-1) as string) as { done: boolean };
    assert.equal(last.done, true);
    assert.match(JSON.stringify(last), /citations of the answer from/);
  });

  it("are not named for an Anthropic client, which gets them as they came", async () => {
    anthropic.script((request) => answer(CITED, "end_turn", (request.body as { stream?: boolean }).stream === true));
    const { data, response } = await client.messages
      .create({ model: "auto", max_tokens: 50, messages: [{ role: "user", content: "What is tandem?" }] })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    const text = data.content.find((block) => block.type === "text");
    assert.deepEqual(text?.type === "text" && text.citations, [CITATION]);
  });
});
