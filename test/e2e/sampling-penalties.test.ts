/**
 * Presence and frequency penalties cross wherever the target's API has them: an Ollama client's
 * `options.presence_penalty` and `options.frequency_penalty` reach an OpenAI-compatible upstream as
 * `presence_penalty` and `frequency_penalty`, a chat completions client's reach an Ollama upstream as
 * its options; a target without them (Anthropic, a Responses upstream) names them in
 * `x-tandem-warnings`. Before, an Ollama client's were named "not sent" to OpenAI, which takes both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { postJson, type WireJson } from "../support/post-json.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let claude: FakeAnthropic;
let oai: FakeOpenAIUpstream;
let codex: FakeResponsesUpstream;
let ollamaUp: FakeOllamaUpstream;
let tandem: RunningTandem;
let openai: OpenAI;

before(async () => {
  [claude, oai, codex, ollamaUp] = await Promise.all([
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  codex.script(() => ({ kind: "answer", text: "Fine." }));
  tandem = await startTandem(
    {
      providers: {
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP"], models: ["claude-sonnet-4-5"] },
        oai: { kind: "openai", baseUrl: oai.url, apiKeys: ["env:UP"], models: ["gpt-4o-mini"] },
        codex: { kind: "openai", baseUrl: codex.url, apiKeys: ["env:UP"], responses: "only", models: ["gpt-5-codex"] },
        ollama: { kind: "ollama", baseUrl: ollamaUp.url, models: ["llama3.2:latest"] },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([claude?.close(), oai?.close(), codex?.close(), ollamaUp?.close()]);
});

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

function ollamaChat(model: string) {
  return postJson(`${tandem.url}/api/chat`, {
    model,
    stream: false,
    messages: [{ role: "user", content: "Hi" }],
    options: { presence_penalty: 0.5, frequency_penalty: 0.25, temperature: 0.7 },
  });
}

describe("an Ollama client's penalties", () => {
  it("reach an OpenAI-compatible upstream, and nothing is named", async () => {
    const res = await ollamaChat("oai/gpt-4o-mini");
    assert.equal(res.status, 200, res.text);
    const body = lastBody(oai);
    assert.equal(body.presence_penalty, 0.5);
    assert.equal(body.frequency_penalty, 0.25);
    assert.equal(body.temperature, 0.7);
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });

  it("are named for Anthropic, whose API has neither", async () => {
    const res = await ollamaChat("claude/claude-sonnet-4-5");
    assert.equal(res.status, 200, res.text);
    const body = lastBody(claude);
    assert.equal("presence_penalty" in body, false);
    assert.equal("frequency_penalty" in body, false);
    const warnings = res.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /presence_penalty not sent to claude\/claude-sonnet-4-5/);
    assert.match(warnings, /frequency_penalty not sent to claude\/claude-sonnet-4-5/);
    assert.doesNotMatch(warnings, /options\./, "named once, by the setting, not as an option lost on the way");
  });

  it("are named for a Responses upstream, whose API has neither", async () => {
    const res = await ollamaChat("codex/gpt-5-codex");
    assert.equal(res.status, 200, res.text);
    assert.equal("presence_penalty" in (codex.responseBodies.at(-1) ?? {}), false);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /presence_penalty not sent to codex\/gpt-5-codex/);
  });
});

describe("a chat completions client's penalties", () => {
  it("reach an Ollama upstream as its options", async () => {
    const { response } = await openai.chat.completions
      .create({
        model: "ollama/llama3.2:latest",
        messages: [{ role: "user", content: "Hi" }],
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
      })
      .withResponse();
    const options = lastBody(ollamaUp).options;
    assert.equal(options.presence_penalty, 0.5);
    assert.equal(options.frequency_penalty, -0.5);
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });

  it("are named for Anthropic", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "claude/claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], presence_penalty: 0.5 })
      .withResponse();
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /presence_penalty not sent to claude\/claude-sonnet-4-5/);
  });
});
