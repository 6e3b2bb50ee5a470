import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { GatewayError } from "../../../src/core/index.js";
import { type DialectApp, ssePayloads, startDialectApp, TARGET, textEvents } from "./stub-gateway.js";

let app: DialectApp;
let client: OpenAI;

before(async () => {
  app = await startDialectApp();
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

after(() => app.close());

beforeEach(() => {
  app.gateway.chatRequests.length = 0;
  app.gateway.chatScript = () => textEvents(" upon a time");
});

async function post(body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${app.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe("POST /v1/completions", () => {
  it("answers a text_completion from one user message holding the prompt", async () => {
    const data = await client.completions.create({ model: "auto", prompt: "Once", temperature: 0.2, stop: ["\n"], seed: 3 });
    assert.match(data.id, /^cmpl-/);
    assert.equal(data.object, "text_completion");
    assert.equal(data.model, TARGET);
    assert.deepEqual(data.choices, [{ text: " upon a time", index: 0, logprobs: null, finish_reason: "stop" }]);
    assert.deepEqual(data.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    assert.deepEqual(app.gateway.chatRequests[0], {
      model: "auto",
      messages: [{ role: "user", content: [{ type: "text", text: "Once" }] }],
      maxTokens: 16,
      stream: false,
      temperature: 0.2,
      stop: ["\n"],
      seed: 3,
    });
  });

  it("accepts a prompt array of exactly one string and an explicit max_tokens", async () => {
    await client.completions.create({ model: "auto", prompt: ["Once"], max_tokens: 99 });
    assert.equal(app.gateway.chatRequests[0]?.maxTokens, 99);
  });

  it("maps a length finish", async () => {
    app.gateway.chatScript = () => [{ type: "start" }, { type: "text-delta", text: "x" }, { type: "finish", reason: "length" }];
    const data = await client.completions.create({ model: "auto", prompt: "Once" });
    assert.equal(data.choices[0]?.finish_reason, "length");
  });

  it("streams text_completion chunks with a usage chunk and [DONE]", async () => {
    const res = await post({ model: "auto", prompt: "Once", stream: true, stream_options: { include_usage: true } });
    const payloads = ssePayloads(res.text);
    assert.equal(payloads.at(-1), "[DONE]");
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p));
    for (const chunk of chunks) {
      assert.equal(chunk.object, "text_completion");
      assert.equal(chunk.model, TARGET);
      assert.match(chunk.id, /^cmpl-/);
    }
    assert.deepEqual(
      chunks.map((c) => [c.choices, c.usage]),
      [
        [[{ text: " upo", index: 0, logprobs: null, finish_reason: null }], null],
        [[{ text: "n a ", index: 0, logprobs: null, finish_reason: null }], null],
        [[{ text: "time", index: 0, logprobs: null, finish_reason: null }], null],
        [[{ text: "", index: 0, logprobs: null, finish_reason: "stop" }], null],
        [[], { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 }],
      ],
    );
  });

  it("streams through the SDK", async () => {
    const stream = await client.completions.create({ model: "auto", prompt: "Once", stream: true });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, " upon a time");
    assert.equal(finish, "stop");
  });

  it("renders gateway errors in OpenAI's shape", async () => {
    app.gateway.chatScript = () => new GatewayError("not_found", "The model 'x' does not exist");
    await assert.rejects(
      client.completions.create({ model: "x", prompt: "Once" }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === "model_not_found",
    );
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ["ids that are no cl100k_base tokens", { model: "auto", prompt: [1, -2, 3] }, "prompt"],
    ["two prompts of token ids", { model: "auto", prompt: [[1, 2], [3]] }, "prompt"],
    ["two prompts", { model: "auto", prompt: ["a", "b"] }, "prompt"],
    ["no prompt", { model: "auto" }, "prompt"],
    ["echo with logprobs", { model: "auto", prompt: "x", echo: true, logprobs: 1 }, "echo"],
    ["suffix", { model: "auto", prompt: "x", suffix: "end" }, "suffix"],
    ["logprobs above 5", { model: "auto", prompt: "x", logprobs: 6 }, "logprobs"],
    ["best_of", { model: "auto", prompt: "x", best_of: 3 }, "best_of"],
    ["n", { model: "auto", prompt: "x", n: 2 }, "n"],
    ["temperature", { model: "auto", prompt: "x", temperature: 5 }, "temperature"],
    ["max_tokens", { model: "auto", prompt: "x", max_tokens: -1 }, "max_tokens"],
    ["model", { prompt: "x" }, "model"],
  ];
  for (const [label, body, param] of cases) {
    it(`rejects ${label} with a 400 naming '${param}'`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400, res.text);
      const error = JSON.parse(res.text).error;
      assert.equal(error.param, param);
      assert.equal(error.type, "invalid_request_error");
      assert.ok(error.message.includes(`'${param}'`), error.message);
    });
  }
});
