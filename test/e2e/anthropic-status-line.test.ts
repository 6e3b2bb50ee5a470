/**
 * The status line of Anthropic's overload answer (529) has a reason phrase, not Node's `unknown` for
 * a status it does not know (`HTTP/1.1 529 unknown`).
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-x"] });
  tandem = await startTandem(
    {
      providers: { up: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP"], local: false, models: ["gpt-x"] } },
      routes: { once: { tiers: ["up/gpt-x"], retry: { attempts: 1 } } },
    },
    { env: { UP: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

it("answers an overload with a 529 whose status line names it", async () => {
  upstream.script(() => ({ kind: "error", status: 529 }));
  const { status, reason } = await new Promise<{ status: number | undefined; reason: string | undefined }>((resolve, reject) => {
    const req = request(
      `${tandem.url}/v1/messages`,
      { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode, reason: res.statusMessage }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ model: "once", max_tokens: 5, messages: [{ role: "user", content: "Hi" }] }));
  });
  assert.equal(status, 529);
  assert.ok(reason !== undefined && reason !== "" && reason.toLowerCase() !== "unknown", `reason: ${reason}`);
});
