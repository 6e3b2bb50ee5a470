/**
 * An error answer the router gave carries `x-tandem-route`, `x-tandem-target` (the last target
 * tried) and `x-tandem-attempts` on every dialect's path (README, Response metadata): also where a
 * dialect words the error its own way (the Responses API's `context_length_exceeded`), as on chat.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream & { script: (fn: () => unknown) => void };
let tandem: RunningTandem;

const OVERFLOW = {
  error: {
    message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
    type: "invalid_request_error",
    param: "messages",
    code: "context_length_exceeded",
  },
};

before(async () => {
  upstream = (await startFakeOpenAI({ models: ["ctxerr", "small"] })) as typeof upstream;
  upstream.script(() => ({ kind: "error", status: 400, body: OVERFLOW }));
  tandem = await startTandem({
    providers: {
      oai: {
        kind: "openai",
        baseUrl: upstream.url,
        local: false,
        models: { ctxerr: { id: "ctxerr" }, small: { id: "small", contextWindow: 300 } },
      },
    },
    routes: { smallonly: { tiers: ["oai/small"] } },
  });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const long = "w ".repeat(600);

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
}

function tandemHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith("x-tandem-")));
}

describe("x-tandem-* headers on errors, on every dialect's path", () => {
  const upstreamOwn = [
    ["chat completions", "/v1/chat/completions", { model: "oai/ctxerr", messages: [{ role: "user", content: "hi" }] }],
    ["Responses", "/v1/responses", { model: "oai/ctxerr", input: "hi" }],
    ["Responses, streamed", "/v1/responses", { model: "oai/ctxerr", input: "hi", stream: true }],
    ["Anthropic", "/v1/messages", { model: "oai/ctxerr", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }],
    ["Ollama", "/api/chat", { model: "oai/ctxerr", messages: [{ role: "user", content: "hi" }], stream: false }],
  ] as const;
  for (const [name, path, body] of upstreamOwn) {
    it(`${name}: a target's own error passed on names the target and the attempt`, async () => {
      const response = await post(path, body);
      await response.text();
      assert.equal(response.status, 400);
      const headers = tandemHeaders(response);
      assert.equal(headers["x-tandem-target"], "oai/ctxerr", JSON.stringify(headers));
      assert.equal(headers["x-tandem-attempts"], "1", JSON.stringify(headers));
    });
  }

  it("Responses: a request refused before any attempt names its route and 0 attempts", async () => {
    // An earlier turn too long for the window, which truncation "disabled" (the default) may not cut.
    const input = [
      { role: "user", content: long },
      { role: "assistant", content: "ok" },
      { role: "user", content: "and now?" },
    ];
    const response = await post("/v1/responses", { model: "smallonly", input });
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(response.status, 400);
    assert.equal(body.error.code, "context_length_exceeded");
    const headers = tandemHeaders(response);
    assert.equal(headers["x-tandem-route"], "smallonly", JSON.stringify(headers));
    assert.equal(headers["x-tandem-attempts"], "0", JSON.stringify(headers));
  });
});
