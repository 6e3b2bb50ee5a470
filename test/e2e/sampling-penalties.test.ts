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
let openai: OpenAI;

before(async () => {
  stage = await startEveryWireStage();
  ({ claude, oai, codex, tandem } = stage);
  ollamaUp = stage.ollama;
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await stage?.close();
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
    // Named once each, by the client's own field.
    assert.equal(
      warnings,
      "options.presence_penalty not sent to claude/claude-sonnet-4-5; options.frequency_penalty not sent to claude/claude-sonnet-4-5",
    );
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
