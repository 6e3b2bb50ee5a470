/**
 * Counting images and PDFs through a real tandem server: /v1/messages/count_tokens and
 * /v1/responses/input_tokens count an image by its size as the target's vendor prices it, and a PDF
 * as it is sent (its text and an image of each page for a target that reads PDFs), not a flat 85
 * and nothing; a content block of a type tandem has no canonical form for counts as its JSON.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { pngHeader } from "../support/image-headers.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";
import { tinyPdf } from "../support/tiny-pdf.js";

let anthropicUp: FakeUpstream;
let openaiUp: FakeUpstream;
let tandem: RunningTandem;
let anthropic: Anthropic;
let openai: OpenAI;

const CLAUDE = "claude/claude-sonnet-4-5";
const GPT = "oai/gpt-4o-mini";
const PDF_TEXT = "The lighthouse keepers of the northern coast kept a log of every ship that passed the point.";

before(async () => {
  [anthropicUp, openaiUp] = await Promise.all([
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        claude: {
          kind: "anthropic",
          baseUrl: anthropicUp.url,
          apiKeys: ["env:UP_ANTHROPIC"],
          local: false,
          models: ["claude-sonnet-4-5"],
        },
        oai: { kind: "openai", baseUrl: openaiUp.url, apiKeys: ["env:UP_OPENAI"], local: false, models: ["gpt-4o-mini"] },
      },
    },
    { env: { UP_ANTHROPIC: "sk-ant-test", UP_OPENAI: "sk-test" }, state: new MemoryStateStore() },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await anthropicUp?.close();
  await openaiUp?.close();
});

const png = (width: number, height: number) => pngHeader(width, height).toString("base64");

describe("/v1/messages/count_tokens with images and documents", () => {
  const countClaude = async (content: Anthropic.ContentBlockParam[]) =>
    (await anthropic.messages.countTokens({ model: CLAUDE, messages: [{ role: "user", content }] })).input_tokens;

  it("prices an image by its size (Anthropic: width × height / 750), not a flat 85", async () => {
    const text = await countClaude([{ type: "text", text: "hello" }]);
    const image = (data: string): Anthropic.ContentBlockParam => ({
      type: "image",
      source: { type: "base64", media_type: "image/png", data },
    });
    const big = await countClaude([image(png(1000, 1000)), { type: "text", text: "hello" }]);
    const small = await countClaude([image(png(100, 100)), { type: "text", text: "hello" }]);
    assert.equal(big - text, 1334);
    assert.equal(small - text, 14);
  });

  it("counts a PDF document (its text and a page image) although it has no canonical form", async () => {
    const text = await countClaude([{ type: "text", text: "hello" }]);
    const data = tinyPdf([PDF_TEXT]).toString("base64");
    const withPdf = await countClaude([
      { type: "document", source: { type: "base64", media_type: "application/pdf", data } },
      { type: "text", text: "hello" },
    ]);
    // One page as an image (1,600) and the page's text (about 20 tokens).
    assert.ok(withPdf - text > 1600 + 10 && withPdf - text < 1600 + 40, `${withPdf} vs ${text}`);
    const byUrl = await countClaude([
      { type: "document", source: { type: "url", url: "https://example.com/report.pdf" } },
      { type: "text", text: "hello" },
    ]);
    assert.equal(byUrl - text, 1600, "a PDF by URL: one page, its text unknown");
  });

  it("counts an image from an uploaded file (no canonical form either) as one whose size is unknown", async () => {
    const text = await countClaude([{ type: "text", text: "hello" }]);
    const byFile = await countClaude([
      { type: "image", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } },
      { type: "text", text: "hello" },
    ]);
    const byUrl = await countClaude([
      { type: "image", source: { type: "url", url: "https://example.com/chart.png" } },
      { type: "text", text: "hello" },
    ]);
    // As an image by URL: taken as 1024×1024, 1,399 tokens at Anthropic (width × height / 750).
    assert.equal(byFile - text, 1399);
    assert.equal(byFile, byUrl);
    const afterCall = async (content: Anthropic.ToolResultBlockParam["content"]) =>
      (
        await anthropic.messages.countTokens({
          model: CLAUDE,
          messages: [
            { role: "user", content: "Show me the chart." },
            { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "open", input: {} }] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content }] },
          ],
        })
      ).input_tokens;
    const inResult = await afterCall([{ type: "image", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } }]);
    const emptyResult = await afterCall([]);
    assert.equal(inResult - emptyResult, 1399, "in a tool result too");
  });
});

describe("/v1/responses/input_tokens with images and files", () => {
  const count = async (model: string, content: OpenAI.Responses.ResponseInputMessageContentList) =>
    (await openai.responses.inputTokens.count({ model, input: [{ role: "user", content }] })).input_tokens;

  it("prices an image by OpenAI's tiles for detail high, 85 for low, and by area for an Anthropic target", async () => {
    const text = await count(GPT, [{ type: "input_text", text: "hello" }]);
    const url = `data:image/png;base64,${png(1000, 1000)}`;
    const high = await count(GPT, [
      { type: "input_image", image_url: url, detail: "high" },
      { type: "input_text", text: "hello" },
    ]);
    const low = await count(GPT, [
      { type: "input_image", image_url: url, detail: "low" },
      { type: "input_text", text: "hello" },
    ]);
    assert.equal(high - text, 765);
    assert.equal(low - text, 85);
    const claudeText = await count(CLAUDE, [{ type: "input_text", text: "hello" }]);
    const claude = await count(CLAUDE, [
      { type: "input_image", image_url: url, detail: "high" },
      { type: "input_text", text: "hello" },
    ]);
    assert.equal(claude - claudeText, 1334);
  });

  it("counts an input_file PDF as its text and a page image for a target that is sent the PDF", async () => {
    const text = await count(GPT, [{ type: "input_text", text: "hello" }]);
    const file_data = `data:application/pdf;base64,${tinyPdf([PDF_TEXT]).toString("base64")}`;
    const withPdf = await count(GPT, [
      { type: "input_file", filename: "log.pdf", file_data },
      { type: "input_text", text: "hello" },
    ]);
    assert.ok(withPdf - text > 765 + 10 && withPdf - text < 765 + 40, `${withPdf} vs ${text}`);
  });
});

describe("/v1/messages/count_tokens with blocks of types tandem does not know", () => {
  const count = async (messages: unknown[]) => {
    const res = await fetch(`${tandem.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: CLAUDE, messages }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { input_tokens: number }).input_tokens;
  };
  const question = { role: "user", content: "What did the search find?" };
  // A block type newer than tandem, as an upstream may have answered it, sent back in the next turn.
  const unknown = {
    type: "lighthouse_log_result",
    tool_use_id: "srvtoolu_01",
    content: [{ type: "entry", text: PDF_TEXT }],
  };

  it("counts an unknown block by its JSON, not as nothing", async () => {
    const without = await count([
      { role: "user", content: "Search the logs." },
      { role: "assistant", content: "Done." },
      question,
    ]);
    const withBlock = await count([
      { role: "user", content: "Search the logs." },
      { role: "assistant", content: [unknown, { type: "text", text: "Done." }] },
      question,
    ]);
    assert.ok(withBlock > without + 20, `${withBlock} > ${without} + 20`);
  });

  it("inside a tool result too", async () => {
    const call = { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "logs", input: {} }] };
    const result = (content: unknown[]) => ({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "toolu_1", content }],
    });
    const text = { type: "text", text: "ok" };
    const without = await count([question, call, result([text])]);
    const withBlock = await count([question, call, result([text, { type: "lighthouse_entry", text: PDF_TEXT }])]);
    assert.ok(withBlock > without + 20, `${withBlock} > ${without} + 20`);
  });
});
