/**
 * A body refused for a `__proto__` key (or `prototype` inside `constructor`) is a 400 that says so,
 * in the client's dialect, small or large (parsed in slices), and nothing reaches an upstream; broken
 * JSON without such a key keeps the plain "not valid JSON" answer.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LARGE_BODY } from "../../src/server/json-body-parser.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    { providers: { up: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: false } } },
    { env: { UP_KEY: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

async function send(path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${tandem.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("prototype keys in a request body", () => {
  const message = (content: string) => `{"role":"user","content":"${content}"}`;

  it("are named in the 400, small bodies and large ones, in each dialect's shape", async () => {
    const filler = "x".repeat(LARGE_BODY);
    for (const content of ["hi", filler]) {
      const chat = await send(
        "/v1/chat/completions",
        `{"model":"up/gpt-4o-mini","messages":[${message(content)}],"__proto__":{"polluted":true}}`,
      );
      assert.equal(chat.status, 400);
      const error = chat.json.error as { type: string; message: string };
      assert.equal(error.type, "invalid_request_error");
      assert.match(error.message, /'__proto__'/);
      const anthropic = await send(
        "/v1/messages",
        `{"model":"up/gpt-4o-mini","max_tokens":5,"messages":[${message(content)}],"constructor":{"prototype":{"p":1}}}`,
      );
      assert.equal(anthropic.status, 400);
      assert.equal(anthropic.json.type, "error");
      assert.match((anthropic.json.error as { message: string }).message, /'prototype' inside 'constructor'/);
    }
    assert.equal(upstream.requests.filter((r) => r.method === "POST").length, 0);
  });

  it("leave broken JSON's answer as it was", async () => {
    const broken = await send("/v1/chat/completions", `{"model":"up/gpt-4o-mini","messages":[${message("hi")}]`);
    assert.equal(broken.status, 400);
    assert.doesNotMatch((broken.json.error as { message: string }).message, /__proto__/);
  });
});
