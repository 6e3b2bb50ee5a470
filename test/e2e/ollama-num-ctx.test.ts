/**
 * An Ollama client's `options.num_ctx` is applied where the target's model can be run with the
 * window it asks for (an Ollama upstream is sent it; the embedded engine loads the model with it, see
 * test/dialects/ollama/ollama-model-workflow.test.ts), and named in `x-tandem-warnings` on a target
 * whose window is its own (an OpenAI-compatible, Anthropic or Responses upstream). Before, it was
 * counted as carried and dropped on the way, with no word.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EveryWireStage, startEveryWireStage } from "../support/every-wire-stage.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { postJson, type WireJson } from "../support/post-json.js";

let stage: EveryWireStage;

before(async () => {
  stage = await startEveryWireStage({
    // A route whose only target is an Ollama upstream, with a window too small for the conversation:
    // it is fitted (older turns left out) in tandem's own form, not passed through as it came.
    "ollama-fitted": { tiers: [["ollama/llama3.2:latest"]] },
  });
});

after(async () => {
  await stage?.close();
});

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

function ollamaChat(model: string, numCtx: number, messages = [{ role: "user", content: "Hi" }]) {
  return postJson(`${stage.tandem.url}/api/chat`, { model, stream: false, messages, options: { num_ctx: numCtx } });
}

describe("an Ollama client's options.num_ctx", () => {
  it("reaches an Ollama upstream, and nothing is named", async () => {
    const res = await ollamaChat("ollama/llama3.2:latest", 2048);
    assert.equal(res.status, 200, res.text);
    assert.equal(lastBody(stage.ollama).options.num_ctx, 2048);
    assert.equal(res.headers.get("x-tandem-warnings"), null);
  });

  it("reaches an Ollama upstream in tandem's own form too, which fits the conversation to that window", async () => {
    const older = { role: "user", content: "word ".repeat(400) };
    const res = await ollamaChat("ollama-fitted", 256, [
      older,
      { role: "assistant", content: "Ok." },
      { role: "user", content: "Hi" },
    ]);
    assert.equal(res.status, 200, res.text);
    const body = lastBody(stage.ollama);
    assert.equal(body.options.num_ctx, 256);
    assert.equal(body.messages.length, 1, "the turns past the 256-token window are left out");
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /256-token window/);
  });

  it("is named for targets whose window is their own: OpenAI-compatible, Anthropic, Responses", async () => {
    for (const [model, fake] of [
      ["oai/gpt-4o-mini", stage.oai],
      ["claude/claude-sonnet-4-5", stage.claude],
    ] as const) {
      const res = await ollamaChat(model, 2048);
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get("x-tandem-warnings") ?? "", new RegExp(`options\\.num_ctx not sent to ${model}`));
      assert.doesNotMatch(JSON.stringify(lastBody(fake)), /num_ctx|2048/);
    }
    const codex = await ollamaChat("codex/gpt-5-codex", 2048);
    assert.equal(codex.status, 200, codex.text);
    assert.match(codex.headers.get("x-tandem-warnings") ?? "", /options\.num_ctx not sent to codex\/gpt-5-codex/);
  });
});
