/**
 * What a request or an answer that crosses wires keeps, and what it names when it cannot: an
 * Anthropic client's stream names the parts of the answer it has no place for in an SSE comment
 * before its end, as the other SSE dialects do; a history call's arguments keep the digits the client
 * wrote; settings are named by the client's own fields; a chat message's speaker `name` and an
 * image's `detail` are named where the target's wire has no place for them; an Anthropic answer's
 * `redacted_thinking`, which chat completions and Ollama have no field for, is named, whole and streamed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { anthropicFrame, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { postJson } from "../support/post-json.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const GPT = "oai/gpt-4o-mini";
const CLAUDE = "claude/claude-sonnet-4-5";
let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;

before(async () => {
  [openai, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        oai: { kind: "openai", baseUrl: openai.url, models: ["gpt-4o-mini"] },
        claude: {
          kind: "anthropic",
          baseUrl: anthropic.url,
          apiKeys: ["env:UP_ANTHROPIC"],
          local: false,
          models: ["claude-sonnet-4-5"],
        },
      },
      breaker: { failureThreshold: 1000, cooldownMs: 1000 },
      // Images may go to cloud targets here: what is said of them is the subject.
      privacy: { imagesArePrivate: false },
    },
    { env: { UP_ANTHROPIC: "sk-ant-test" } },
  );
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe("an Anthropic client's stream from another wire", () => {
  it("names what the answer could not carry in a `: tandem warning:` comment before message_stop", async () => {
    openai.script(() => ({
      kind: "raw",
      body: [
        chunk({ role: "assistant", content: "See source." }),
        chunk({
          annotations: [
            { type: "url_citation", url_citation: { url: "https://example.com", title: "E", start_index: 0, end_index: 3 } },
          ],
        }),
        chunk({}, "stop"),
        "data: [DONE]\n\n",
      ],
    }));
    const res = await postJson(`${tandem.url}/v1/messages`, {
      model: GPT,
      stream: true,
      max_tokens: 50,
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, new RegExp(`: tandem warning: annotations of the answer from ${GPT} not carried\\n\\n`));
    assert.ok(res.text.indexOf("tandem warning") < res.text.indexOf("event: message_stop"));
  });
});

describe("a history call's arguments sent to an OpenAI-compatible upstream", () => {
  const lastArguments = () => {
    const body = openai.requests.filter((r) => r.method === "POST").at(-1)?.body as {
      messages: Array<{ tool_calls?: Array<{ function: { arguments: string } }> }>;
    };
    return body.messages.find((m) => m.tool_calls)?.tool_calls?.[0]?.function.arguments;
  };

  it("keep an Anthropic client's digits: an integer past 2^53 and 1.10 are not rewritten", async () => {
    openai.script(() => ({ kind: "text", text: "ok" }));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"model":"${GPT}","max_tokens":50,"tools":[{"name":"get","input_schema":{"type":"object"}}],
        "messages":[{"role":"user","content":"x"},
        {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get","input":{"acct":12345678901234567890,"f":1.10}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}`,
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastArguments(), '{"acct":12345678901234567890,"f":1.10}');
  });

  it("keep an Ollama client's digits", async () => {
    openai.script(() => ({ kind: "text", text: "ok" }));
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"model":"${GPT}","stream":false,"messages":[{"role":"user","content":"x"},
        {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get","arguments":{"acct":12345678901234567890,"f":1.10}}}]},
        {"role":"tool","tool_name":"get","content":"ok"}]}`,
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastArguments(), '{"acct":12345678901234567890,"f":1.10}');
  });
});

describe("settings a target cannot take", () => {
  it("are named by an Ollama client's own fields, options.*", async () => {
    openai.script(() => ({ kind: "text", text: "ok" }));
    anthropic.script(() => ({ kind: "text", text: "ok" }));
    const toOpenAI = await postJson(`${tandem.url}/api/chat`, {
      model: GPT,
      stream: false,
      options: { top_k: 40 },
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(toOpenAI.status, 200, toOpenAI.text);
    assert.match(
      toOpenAI.json.tandem_warnings ?? toOpenAI.headers.get("x-tandem-warnings") ?? "",
      new RegExp(`options\\.top_k not sent to ${GPT}`),
    );
    const toClaude = await postJson(`${tandem.url}/api/chat`, {
      model: CLAUDE,
      stream: false,
      options: { seed: 7 },
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(toClaude.status, 200, toClaude.text);
    const warnings = toClaude.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, new RegExp(`options\\.seed not sent to ${CLAUDE}`));
    assert.doesNotMatch(warnings, /(^|; )seed not sent/);
  });
});

describe("a chat client's fields another wire has no place for", () => {
  const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString("base64");

  it("name a speaker's `name` and an image's `detail` sent to Anthropic", async () => {
    anthropic.script(() => ({ kind: "text", text: "ok" }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, {
      model: CLAUDE,
      messages: [
        {
          role: "user",
          name: "bob",
          content: [
            { type: "text", text: "x" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" } },
          ],
        },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const warnings = res.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, new RegExp(`messages\\[\\]\\.name not sent to ${CLAUDE}`));
    assert.match(warnings, new RegExp(`detail of images not sent to ${CLAUDE}`));
  });

  it("say nothing of them to an OpenAI-compatible target, which is sent the client's body", async () => {
    openai.script(() => ({ kind: "text", text: "ok" }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, {
      model: GPT,
      messages: [{ role: "user", name: "bob", content: "x" }],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-tandem-warnings"), null);
    assert.equal((openai.requests.at(-1)?.body as { messages: Array<{ name?: string }> }).messages[0]?.name, "bob");
  });
});

describe("an Anthropic answer's redacted_thinking to a chat completions or Ollama client", () => {
  const REDACTED = { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT" };
  const TEXT = { type: "text", text: "Done." };
  /** Claude answering with these blocks, whole or streamed as the request asks. */
  const answerWith = (blocks: Record<string, unknown>[]) =>
    anthropic.script((request) => {
      const message = {
        id: "msg_red1",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: blocks,
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 20, output_tokens: 9 },
      };
      if ((request.body as { stream?: boolean }).stream !== true) return { kind: "raw", body: JSON.stringify(message) };
      const frames = [anthropicFrame("message_start", { message: { ...message, content: [], stop_reason: null } })];
      blocks.forEach((block, index) => {
        const start = block.type === "text" ? { ...block, text: "" } : block;
        frames.push(anthropicFrame("content_block_start", { index, content_block: start }));
        if (block.type === "text")
          frames.push(anthropicFrame("content_block_delta", { index, delta: { type: "text_delta", text: block.text } }));
        frames.push(anthropicFrame("content_block_stop", { index }));
      });
      frames.push(
        anthropicFrame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 9 } }),
        anthropicFrame("message_stop", {}),
      );
      return { kind: "sse", body: frames.join("") };
    });
  const named = new RegExp(`redacted_thinking blocks of the answer from ${CLAUDE} not carried`);
  const chat = { model: CLAUDE, reasoning_effort: "low", messages: [{ role: "user", content: "x" }] };
  const ollama = { model: CLAUDE, think: true, messages: [{ role: "user", content: "x" }] };

  it("chat completions: named in x-tandem-warnings, and in the stream's closing comment", async () => {
    answerWith([REDACTED, TEXT]);
    const whole = await postJson(`${tandem.url}/v1/chat/completions`, chat);
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.choices[0].message.content, "Done.");
    assert.match(whole.headers.get("x-tandem-warnings") ?? "", named);
    const streamed = await postJson(`${tandem.url}/v1/chat/completions`, { ...chat, stream: true });
    assert.equal(streamed.status, 200, streamed.text);
    assert.match(streamed.text, new RegExp(`: tandem warning: [^\\n]*${named.source}`));
    assert.ok(streamed.text.indexOf("tandem warning") < streamed.text.indexOf("data: [DONE]"));
  });

  it("Ollama: named in x-tandem-warnings, and in the final chunk's tandem_warnings", async () => {
    answerWith([REDACTED, TEXT]);
    const whole = await postJson(`${tandem.url}/api/chat`, { ...ollama, stream: false });
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.message.content, "Done.");
    assert.match(whole.headers.get("x-tandem-warnings") ?? "", named);
    const streamed = await postJson(`${tandem.url}/api/chat`, { ...ollama, stream: true });
    assert.equal(streamed.status, 200, streamed.text);
    const final = JSON.parse(streamed.text.trim().split("\n").at(-1) ?? "{}");
    assert.equal(final.done, true);
    assert.match((final.tandem_warnings ?? []).join("; "), named);
  });

  it("not named when the answer had none", async () => {
    answerWith([TEXT]);
    const res = await postJson(`${tandem.url}/v1/chat/completions`, chat);
    assert.equal(res.status, 200, res.text);
    assert.doesNotMatch(res.headers.get("x-tandem-warnings") ?? "", /redacted_thinking/);
  });
});
