/**
 * An Anthropic client's content of several blocks (a text document and the question about it, two
 * text blocks of one message, an assistant turn of two) keeps the boundaries between them on another
 * wire: OpenAI chat user content as a list of text parts, and where the wire takes one string (Ollama,
 * an assistant or tool message on OpenAI's wires) the blocks joined by a blank line, as system blocks
 * are. Before, "doc body" and "summarize" reached the model as "doc bodysummarize". An Anthropic
 * upstream is sent the client's body as it came.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { type EveryWireStage, startEveryWireStage } from "../support/every-wire-stage.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import type { WireJson } from "../support/post-json.js";
import type { RunningTandem } from "../support/tandem.js";

let stage: EveryWireStage;
let claude: EveryWireStage["claude"];
let oai: EveryWireStage["oai"];
let codex: EveryWireStage["codex"];
let ollamaUp: EveryWireStage["ollama"];
let tandem: RunningTandem;
let anthropic: Anthropic;

before(async () => {
  stage = await startEveryWireStage();
  ({ claude, oai, codex, tandem } = stage);
  ollamaUp = stage.ollama;
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await stage?.close();
});

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

const messages = [
  {
    role: "user",
    content: [
      { type: "document", source: { type: "text", media_type: "text/plain", data: "doc body" } },
      { type: "text", text: "summarize" },
    ],
  },
  {
    role: "assistant",
    content: [
      { type: "text", text: "ans1" },
      { type: "text", text: "ans2" },
    ],
  },
  {
    role: "user",
    content: [
      { type: "text", text: "first part." },
      { type: "text", text: "second part" },
    ],
  },
] as Anthropic.MessageParam[];

function ask(model: string) {
  return anthropic.messages.create({ model, max_tokens: 100, messages });
}

describe("an Anthropic client's blocks, on another wire", () => {
  it("OpenAI chat: user blocks as text parts, the assistant's joined by a blank line", async () => {
    await ask("oai/gpt-4o-mini");
    const sent = lastBody(oai).messages;
    assert.deepEqual(sent, [
      {
        role: "user",
        content: [
          { type: "text", text: "doc body" },
          { type: "text", text: "summarize" },
        ],
      },
      { role: "assistant", content: "ans1\n\nans2" },
      {
        role: "user",
        content: [
          { type: "text", text: "first part." },
          { type: "text", text: "second part" },
        ],
      },
    ]);
  });

  it("Ollama: each message one string, the blocks joined by a blank line", async () => {
    await ask("ollama/llama3.2:latest");
    const sent = lastBody(ollamaUp).messages.map((m: WireJson) => m.content);
    assert.deepEqual(sent, ["doc body\n\nsummarize", "ans1\n\nans2", "first part.\n\nsecond part"]);
  });

  it("a Responses upstream: input_text parts each, the assistant's output_text joined by a blank line", async () => {
    await ask("codex/gpt-5-codex");
    const input = codex.responseBodies.at(-1)?.input as WireJson[];
    assert.deepEqual(
      input[0].content.map((p: WireJson) => p.text),
      ["doc body", "summarize"],
    );
    assert.equal(input[1].content[0].text, "ans1\n\nans2");
  });

  it("a tool result of two text blocks reaches OpenAI's tool message joined by a blank line", async () => {
    await anthropic.messages.create({
      model: "oai/gpt-4o-mini",
      max_tokens: 100,
      tools: [{ name: "f", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: "Go" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: [
                { type: "text", text: "line one" },
                { type: "text", text: "line two" },
              ],
            },
          ],
        },
      ],
    });
    const tool = lastBody(oai).messages.find((m: WireJson) => m.role === "tool");
    assert.equal(tool.content, "line one\n\nline two");
  });

  it("an Anthropic upstream is sent the client's blocks as they came", async () => {
    await ask("claude/claude-sonnet-4-5");
    assert.deepEqual(lastBody(claude).messages, messages);
  });
});
