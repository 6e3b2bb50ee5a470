import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("adaptive first-token deadline", () => {
  let tandem: RunningTandem;
  let fast: FakeUpstream;
  let backup: FakeUpstream;

  before(async () => {
    fast = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    backup = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
    tandem = await startTandem(
      {
        providers: {
          fast: { kind: "openai", baseUrl: fast.url, apiKeys: ["env:K"], models: ["gpt-4o-mini"] },
          backup: { kind: "anthropic", baseUrl: backup.url, apiKeys: ["env:K"], models: ["claude-haiku-4-5"] },
        },
        routes: {
          auto: {
            tiers: ["fast/gpt-4o-mini", "backup/claude-haiku-4-5"],
            retry: { attempts: 1 },
            timeouts: { firstTokenMs: 20_000, adaptiveFirstToken: { multiplier: 3, minMs: 300 } },
          },
        },
      },
      { env: { K: "sk-test" } },
    );
  });

  after(async () => {
    await tandem?.close();
    await Promise.all([fast?.close(), backup?.close()]);
  });

  it("gives up on a target far slower than its own record long before the configured limit", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Hi" }] }).withResponse();
    // Its record: 20 quick first tokens.
    for (let i = 0; i < 20; i++) assert.equal((await ask()).response.headers.get("x-tandem-target"), "fast/gpt-4o-mini");
    fast.script(() => ({ kind: "stall", chunks: [] }));
    const slow = await ask();
    assert.equal(slow.response.headers.get("x-tandem-target"), "backup/claude-haiku-4-5");
    const degraded = slow.response.headers.get("x-tandem-degraded") ?? "";
    assert.match(degraded, /fast\/gpt-4o-mini: timeout/);
    // The limit that fired was the adapted one (3 x its p95, at least 300 ms), not the configured 20 s.
    const limit = Number(/no first token within (\d+) ms/.exec(degraded)?.[1]);
    assert.ok(limit >= 300 && limit < 20_000, `failed over on a ${limit} ms limit, not the configured 20 s: ${degraded}`);
  });
});
