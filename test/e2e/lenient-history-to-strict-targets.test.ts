/**
 * An Ollama client's history, which real Ollama takes as it is, on its way to a target whose API
 * holds a conversation to stricter rules (Anthropic's Messages API, OpenAI's chat and Responses APIs):
 * a tool call with no result gets an error result saying none was given, right after the assistant
 * turn that made it; a tool result with no call before it goes as user text that says it is a tool's
 * output, where it stood (the user's words keep their order); empty messages are left out; a
 * conversation with nothing left that the target takes is a 400 in the client's dialect, and no
 * upstream is called. Each mend is named in `x-tandem-warnings`. An Ollama target is sent the history
 * as it came.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type EveryWireStage, startEveryWireStage } from "../support/every-wire-stage.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { postJson, type WireJson } from "../support/post-json.js";
import type { RunningTandem } from "../support/tandem.js";

let stage: EveryWireStage;
let claude: EveryWireStage["claude"];
let oai: EveryWireStage["oai"];
let codex: EveryWireStage["codex"];
let ollamaUp: EveryWireStage["ollama"];
let tandem: RunningTandem;

before(async () => {
  stage = await startEveryWireStage({
    "claude-then-ollama": { tiers: ["claude/claude-sonnet-4-5", "ollama/llama3.2:latest"] },
  });
  ({ claude, oai, codex, tandem } = stage);
  ollamaUp = stage.ollama;
});

after(async () => {
  await stage?.close();
});

beforeEach(() => {
  for (const fake of [claude, oai, codex, ollamaUp]) fake.requests.length = 0;
  codex.responseBodies.length = 0;
});

const posts = (fake: { requests: RecordedRequest[] }) => fake.requests.filter((r) => r.method === "POST");
const lastBody = (fake: { requests: RecordedRequest[] }): WireJson => posts(fake).at(-1)?.body;

function chat(model: string, messages: unknown[]) {
  return postJson(`${tandem.url}/api/chat`, { model, messages, stream: false });
}

const weatherCall = {
  role: "assistant",
  content: "",
  tool_calls: [{ id: "call_w1", function: { name: "get_weather", arguments: { city: "Paris" } } }],
};

describe("an empty or system-only conversation, to a target that needs a message", () => {
  it("an empty user message to Claude: a 400 in Ollama's shape, and no upstream call", async () => {
    const res = await chat("claude/claude-sonnet-4-5", [{ role: "user", content: "" }]);
    assert.equal(res.status, 400, res.text);
    assert.equal(typeof res.json.error, "string");
    assert.match(res.json.error, /no user or assistant message/);
    assert.equal(posts(claude).length, 0);
  });

  it("a system prompt alone to Claude: the same 400, and no upstream call", async () => {
    const res = await chat("claude/claude-sonnet-4-5", [{ role: "system", content: "only system" }]);
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.error, /no user or assistant message/);
    assert.equal(posts(claude).length, 0);
  });

  it("a system prompt alone to OpenAI, which takes one: sent as it is", async () => {
    const res = await chat("oai/gpt-4o-mini", [{ role: "system", content: "only system" }]);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(lastBody(oai).messages, [{ role: "system", content: "only system" }]);
  });

  it("a route with a lenient target after Claude: Claude is skipped, the next target answers", async () => {
    const res = await chat("claude-then-ollama", [{ role: "system", content: "only system" }]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-tandem-target"), "ollama/llama3.2:latest");
    assert.equal(posts(claude).length, 0);
    assert.deepEqual(
      lastBody(ollamaUp).messages.map((m: WireJson) => m.role),
      ["system"],
    );
  });

  it("an empty message beside real ones is left out, and named", async () => {
    const res = await chat("claude/claude-sonnet-4-5", [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "" },
      { role: "user", content: "Still there?" },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(lastBody(claude).messages, [
      {
        role: "user",
        content: [
          { type: "text", text: "Hi" },
          { type: "text", text: "Still there?" },
        ],
      },
    ]);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /an empty message not sent to claude\/claude-sonnet-4-5/);
  });
});

describe("a tool call with no result after it (the user moved on)", () => {
  const history = [{ role: "user", content: "Weather in Paris?" }, weatherCall, { role: "user", content: "never mind" }];

  it("to Claude: an is_error tool_result saying none was given, right after the call, before the user's text", async () => {
    const res = await chat("claude/claude-sonnet-4-5", history);
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(claude).messages;
    assert.deepEqual(
      messages.map((m: WireJson) => m.role),
      ["user", "assistant", "user"],
    );
    assert.equal(messages[1].content[0].type, "tool_use");
    assert.equal(messages[1].content[0].id, "call_w1");
    const [result, text] = messages[2].content;
    assert.equal(result.type, "tool_result");
    assert.equal(result.tool_use_id, "call_w1");
    assert.equal(result.is_error, true);
    assert.match(result.content[0].text, /no result was given/i);
    assert.deepEqual(text, { type: "text", text: "never mind" });
    assert.match(
      res.headers.get("x-tandem-warnings") ?? "",
      /tool call get_weather \(call_w1\) without a result \(an error result saying none was given sent instead\) not sent to claude/,
    );
  });

  it("to OpenAI: a tool message for the call right after it, then the user's text", async () => {
    const res = await chat("oai/gpt-4o-mini", history);
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(oai).messages;
    assert.deepEqual(
      messages.map((m: WireJson) => m.role),
      ["user", "assistant", "tool", "user"],
    );
    assert.equal(messages[2].tool_call_id, "call_w1");
    assert.match(messages[2].content, /^Error: .*no result was given/i);
    assert.equal(messages[3].content, "never mind");
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /tool call get_weather \(call_w1\) without a result/);
  });

  it("to a Responses upstream: a function_call_output for the call right after it", async () => {
    const res = await chat("codex/gpt-5-codex", history);
    assert.equal(res.status, 200, res.text);
    const input = codex.responseBodies.at(-1)?.input as WireJson[];
    assert.deepEqual(
      input.map((item) => item.type),
      ["message", "function_call", "function_call_output", "message"],
    );
    assert.equal(input[2].call_id, "call_w1");
    assert.match(input[2].output, /no result was given/i);
  });

  it("to an Ollama target, which takes it: sent as it came, nothing named", async () => {
    const res = await chat("ollama/llama3.2:latest", history);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      lastBody(ollamaUp).messages.map((m: WireJson) => m.role),
      ["user", "assistant", "user"],
    );
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });

  it("a result that does come later in the same turn is moved up to its call, the user's text after it", async () => {
    const res = await chat("oai/gpt-4o-mini", [
      { role: "user", content: "Weather in Paris?" },
      weatherCall,
      { role: "user", content: "quick please" },
      { role: "tool", tool_name: "get_weather", content: "sunny" },
    ]);
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(oai).messages;
    assert.deepEqual(
      messages.map((m: WireJson) => [m.role, m.content]),
      [
        ["user", "Weather in Paris?"],
        ["assistant", null],
        ["tool", "sunny"],
        ["user", "quick please"],
      ],
    );
    assert.equal(res.headers.get("x-tandem-warnings"), null, "nothing was lost: the result only moved");
  });
});

describe("a tool result with no call before it", () => {
  const history = [
    { role: "user", content: "x" },
    { role: "tool", tool_name: "get_weather", content: "sunny" },
  ];

  it("to Claude: user text that says it is the tool's output, after the user's own text, no tool_result", async () => {
    const res = await chat("claude/claude-sonnet-4-5", history);
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(claude).messages;
    assert.equal(messages.length, 1);
    assert.equal(messages[0].role, "user");
    const blocks = messages[0].content as WireJson[];
    assert.equal(
      blocks.some((b) => b.type === "tool_result"),
      false,
    );
    assert.deepEqual(blocks[0], { type: "text", text: "x" }, "the user's words first, where they stood");
    const rest = blocks
      .slice(1)
      .map((b) => b.text)
      .join("\n");
    assert.match(rest, /get_weather/);
    assert.match(rest, /sunny/);
    assert.match(
      res.headers.get("x-tandem-warnings") ?? "",
      /a tool result without its call \(sent as user text instead\) not sent to claude/,
    );
  });

  it("to OpenAI: no tool message, the output as user text after the user's", async () => {
    const res = await chat("oai/gpt-4o-mini", history);
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(oai).messages as WireJson[];
    assert.deepEqual(
      messages.map((m) => m.role),
      ["user", "user"],
    );
    assert.equal(messages[0].content, "x");
    assert.match(JSON.stringify(messages[1].content), /get_weather.*sunny/s);
  });

  it("to an Ollama target: sent as it came", async () => {
    await chat("ollama/llama3.2:latest", history);
    assert.deepEqual(
      lastBody(ollamaUp).messages.map((m: WireJson) => m.role),
      ["user", "tool"],
    );
  });
});
