/**
 * What a client sends inline that tandem cannot read (an Anthropic PDF document in base64, an OpenAI
 * `input_audio` part, a `file` part with its bytes) reaches only a same-wire target, and privacy
 * classification cannot clear it: it counts as an image does (`imagesArePrivate`), so under the
 * default policy it stays off cloud targets, and a redacting route cannot send it. A file sent by its
 * id, or a document by URL, sends no new data and does not count. Through the official SDKs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let oa: ScriptedUpstream;
let an: ScriptedUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  oa = await startScriptedUpstream();
  an = await startScriptedUpstream();
  oa.script(() => ({
    kind: "json",
    body: {
      id: "chatcmpl-up",
      object: "chat.completion",
      created: 1764790000,
      model: "gpt-up",
      choices: [{ index: 0, message: { role: "assistant", content: "heard it" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    },
  }));
  an.script(() => ({
    kind: "json",
    body: {
      id: "msg_up",
      type: "message",
      role: "assistant",
      model: "claude-up",
      content: [{ type: "text", text: "read it" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 2 },
    },
  }));
  const once = { retry: { attempts: 1 }, streamUpstream: false };
  tandem = await startTandem(
    {
      providers: {
        oa: { kind: "openai", baseUrl: `${oa.url}/v1`, local: false, apiKeys: ["env:OA_KEY"], models: { gpt: { id: "gpt-up" } } },
        // The same upstream as a local server (on a loopback address, not marked remote).
        near: { kind: "openai", baseUrl: `${oa.url}/v1`, models: { gpt: { id: "gpt-up" } } },
        an: {
          kind: "anthropic",
          baseUrl: an.url,
          local: false,
          apiKeys: ["env:AN_KEY"],
          models: { claude: { id: "claude-up" } },
        },
      },
      routes: {
        oa: { tiers: [["oa/gpt"]], ...once },
        an: { tiers: [["an/claude"]], ...once },
        "an-redact": { tiers: [["an/claude"]], privacy: "redact", ...once },
        "an-images-allowed": { tiers: [["an/claude"]], imagesArePrivate: false, ...once },
        "near-then-an": { tiers: [["near/gpt"], ["an/claude"]], ...once },
      },
    },
    { env: { OA_KEY: "sk-oa", AN_KEY: "sk-an" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([oa?.close(), an?.close()]);
});

const PDF = { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQK" } as const;

function messagesWith(block: Anthropic.ContentBlockParam): Anthropic.MessageParam[] {
  return [{ role: "user", content: [{ type: "text", text: "What does it say?" }, block] }];
}

async function refused(request: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(request, (err: unknown) => {
    assert.ok(err instanceof Anthropic.APIError || err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 403);
    assert.match(err.message, reason);
    return true;
  });
}

describe("attachments tandem cannot read count as images do", () => {
  it("an Anthropic PDF in base64 stays off a cloud target under the default policy, with a 403 that says why", async () => {
    an.clear();
    await refused(
      anthropic.messages.create({ model: "an", max_tokens: 16, messages: messagesWith({ type: "document", source: PDF }) }),
      /private \(found 1 attachment that cannot be read/,
    );
    assert.equal(an.requests.length, 0, "nothing reached the upstream");
  });

  it("the same PDF goes when the client declares it public, or the route lets images go", async () => {
    an.clear();
    const params = { max_tokens: 16, messages: messagesWith({ type: "document", source: PDF }) };
    const declared = await anthropic.messages.create(
      { model: "an", ...params },
      { headers: { "x-tandem-sensitivity": "public" } },
    );
    assert.equal(declared.content[0]?.type === "text" && declared.content[0].text, "read it");
    const allowed = await anthropic.messages.create({ model: "an-images-allowed", ...params });
    assert.equal(allowed.content[0]?.type === "text" && allowed.content[0].text, "read it");
    assert.equal(an.requests.length, 2);
    assert.deepEqual((an.requests[1]?.body.messages as Anthropic.MessageParam[])[0]?.content, params.messages[0]?.content);
  });

  it("a PDF by URL, an uploaded file and a text document send no unreadable bytes: not counted", async () => {
    an.clear();
    for (const block of [
      { type: "document", source: { type: "url", url: "https://example.com/report.pdf" } },
      { type: "document", source: { type: "file", file_id: "file_011abc" } },
      { type: "document", source: { type: "text", media_type: "text/plain", data: "Quarterly numbers are up." } },
    ] as Anthropic.ContentBlockParam[]) {
      const message = await anthropic.messages.create(
        { model: "an", max_tokens: 16, messages: messagesWith(block) },
        { headers: { "anthropic-beta": "files-api-2025-04-14" } },
      );
      assert.equal(message.content[0]?.type === "text" && message.content[0].text, "read it");
    }
    assert.equal(an.requests.length, 3);
  });

  it("a redacting route cannot redact a PDF, so it keeps the request on the machine (403 without a local target)", async () => {
    an.clear();
    await refused(
      anthropic.messages.create({
        model: "an-redact",
        max_tokens: 16,
        messages: messagesWith({ type: "document", source: PDF }),
      }),
      /attachments cannot be redacted/,
    );
    assert.equal(an.requests.length, 0);
  });

  it("with a local target on another wire: a 400 naming the PDF and the cloud target privacy kept it from", async () => {
    an.clear();
    oa.clear();
    await assert.rejects(
      anthropic.messages.create({
        model: "near-then-an",
        max_tokens: 16,
        messages: messagesWith({ type: "document", source: PDF }),
      }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.match(
          err.message,
          /'messages\[0\]\.content\[1\]'.*none of near\/gpt does\. an\/claude does, but this request is private/,
        );
        return true;
      },
    );
    assert.equal(an.requests.length + oa.requests.length, 0);
  });

  it("a PDF inside a tool result counts too", async () => {
    an.clear();
    await refused(
      anthropic.messages.create({
        model: "an",
        max_tokens: 16,
        messages: [
          { role: "user", content: "Fetch the report." },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "fetch", input: {} }] },
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "document", source: PDF }] }],
          },
        ],
        tools: [{ name: "fetch", input_schema: { type: "object" } }],
      }),
      /found 1 attachment that cannot be read/,
    );
  });

  it("OpenAI: input_audio and a file part's bytes stay off a cloud target; a file by id does not count", async () => {
    oa.clear();
    const ask = (part: OpenAI.ChatCompletionContentPart) =>
      openai.chat.completions.create({
        model: "oa",
        messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, part] }],
      });
    await refused(ask({ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }), /1 attachment/);
    await refused(
      ask({ type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERg==" } }),
      /1 attachment/,
    );
    assert.equal(oa.requests.length, 0);
    const byId = await ask({ type: "file", file: { file_id: "file-abc" } });
    assert.equal(byId.choices[0]?.message.content, "heard it");
    assert.equal(oa.requests.length, 1);
  });
});
