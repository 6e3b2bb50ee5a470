/**
 * A tool result's images (a screenshot, an image file an agent read) reach a target on another wire:
 * an Anthropic client's tool_result with an image, to an OpenAI-compatible chat upstream (a tool
 * message takes text only, so the image follows the results in a user message naming the call), to a
 * Responses upstream (a `function_call_output` whose output is a list of parts) and to Ollama (the
 * tool message's own `images`). Before, each of them was sent the text alone.
 *
 * An Ollama client's tool message with `images` (ollama-js Message.images) is read the same way: its
 * images reach Anthropic in the tool_result, an OpenAI chat upstream in the user message after the
 * results, and a target that reads no images refuses it (a route skips it). Before, they were dropped
 * without a word, and a route answered from a text-only tier.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { postJson } from "../support/post-json.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** A 1x1 PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

let oai: FakeOpenAIUpstream;
let codex: FakeResponsesUpstream;
let ollamaUp: FakeOllamaUpstream;
let claude: FakeAnthropic;
let tandem: RunningTandem;
let anthropic: Anthropic;

before(async () => {
  [oai, codex, ollamaUp, claude] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini", "blind"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeOllama({ models: ["qwen2.5vl:latest"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  codex.script(() => ({ kind: "answer", text: "A red dot." }));
  tandem = await startTandem(
    {
      providers: {
        oai: { kind: "openai", baseUrl: oai.url, models: { "gpt-4o-mini": {}, blind: { capabilities: { vision: false } } } },
        ant: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:K"], models: ["claude-haiku-4-5"] },
        codex: { kind: "openai", baseUrl: codex.url, responses: "only", models: ["gpt-5-codex"] },
        ollama: { kind: "ollama", baseUrl: ollamaUp.url, models: ["qwen2.5vl:latest"] },
      },
      routes: { "blind-first": { tiers: ["oai/blind", "ant/claude-haiku-4-5"] } },
    },
    { env: { K: "sk-up" } },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([oai?.close(), codex?.close(), ollamaUp?.close(), claude?.close()]);
});

/** Claude Code's Read tool on an image file: the tool_result carries the image. */
function readImage(model: string) {
  return anthropic.messages.create({
    model,
    max_tokens: 200,
    tools: [{ name: "Read", input_schema: { type: "object", properties: { file_path: { type: "string" } } } }],
    messages: [
      { role: "user", content: "What is in dot.png?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_read1", name: "Read", input: { file_path: "dot.png" } }] },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_read1",
            content: [
              { type: "text", text: "dot.png (1x1)" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            ],
          },
        ],
      },
    ],
  });
}

const lastBody = (fake: { requests: RecordedRequest[] }) =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body as Record<string, unknown>;

describe("a tool result's image, to a target on another wire", () => {
  it("OpenAI chat: the tool message's text, then the image in a user message that names the call", async () => {
    await readImage("oai/gpt-4o-mini");
    const messages = lastBody(oai).messages as { role: string; content: unknown; tool_call_id?: string }[];
    assert.deepEqual(
      messages.map((m) => m.role),
      ["user", "assistant", "tool", "user"],
    );
    assert.equal(messages[2]?.content, "dot.png (1x1)");
    assert.deepEqual(messages[3]?.content, [
      { type: "text", text: "The result of tool call read1 included this image:" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
    ]);
    assert.equal(messages[2]?.tool_call_id, "read1");
  });

  it("Responses: the function_call_output's output is its text and the image", async () => {
    const message = await readImage("codex/gpt-5-codex");
    assert.equal((message.content[0] as { text?: string }).text, "A red dot.");
    const input = codex.responseBodies.at(-1)?.input as { type: string; output?: unknown }[];
    const output = input.find((item) => item.type === "function_call_output")?.output;
    assert.deepEqual(output, [
      { type: "input_text", text: "dot.png (1x1)" },
      { type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "auto" },
    ]);
  });

  it("Ollama: the tool message's own images", async () => {
    await readImage("ollama/qwen2.5vl:latest");
    const messages = lastBody(ollamaUp).messages as { role: string; images?: string[] }[];
    assert.deepEqual(messages.find((m) => m.role === "tool")?.images, [PNG]);
  });
});

/** An Ollama agent's screenshot tool: the tool message carries the image in `images`. */
function ollamaScreenshot(model: string) {
  return postJson(`${tandem.url}/api/chat`, {
    model,
    stream: false,
    messages: [
      { role: "user", content: "What is on the screen?" },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "screenshot", arguments: {} } }] },
      { role: "tool", tool_name: "screenshot", content: "here", images: [PNG] },
    ],
    tools: [{ type: "function", function: { name: "screenshot", parameters: { type: "object" } } }],
  });
}

describe("an Ollama client's tool message with images", () => {
  it("Anthropic: the image is a block of the tool_result", async () => {
    const res = await ollamaScreenshot("ant/claude-haiku-4-5");
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(claude).messages as { role: string; content: { type: string; content?: unknown }[] }[];
    const result = messages.at(-1)?.content.find((block) => block.type === "tool_result");
    assert.deepEqual(result?.content, [
      { type: "text", text: "here" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
    ]);
  });

  it("OpenAI chat: the tool message's text, then the image in a user message that names the call", async () => {
    const res = await ollamaScreenshot("oai/gpt-4o-mini");
    assert.equal(res.status, 200, res.text);
    const messages = lastBody(oai).messages as { role: string; content: unknown; tool_call_id?: string }[];
    assert.deepEqual(
      messages.map((m) => m.role),
      ["user", "assistant", "tool", "user"],
    );
    assert.equal(messages[2]?.content, "here");
    assert.deepEqual(messages[3]?.content, [
      { type: "text", text: `The result of tool call ${messages[2]?.tool_call_id} included this image:` },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
    ]);
  });

  it("a route skips a text-only tier for it", async () => {
    const res = await ollamaScreenshot("blind-first");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-tandem-target"), "ant/claude-haiku-4-5");
  });
});
