/**
 * A provider key tandem cannot find (`apiKeys: [env:NAME]` with the variable unset) is tandem's own
 * configuration missing something: the client is answered a 503 that names the provider and what to
 * set, never the 401 `invalid_api_key` / `authentication_error` its SDK would take for its own key
 * refused; the upstream is never asked, the target's breaker does not open for it (so a key set
 * while tandem runs is used at the next request), and a route with another target answers there.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("a provider key tandem cannot find", () => {
  let cloud: FakeOpenAIUpstream;
  let home: FakeOpenAIUpstream;
  let tandem: RunningTandem;
  let openai: OpenAI;
  // The server reads keys from this object at each request: a test sets the variable later.
  const env: NodeJS.ProcessEnv = {};

  before(async () => {
    [cloud, home] = await Promise.all([startFakeOpenAI({ models: ["gpt"] }), startFakeOpenAI({ models: ["m"] })]);
    tandem = await startTandem(
      {
        providers: {
          cloud: { kind: "openai", baseUrl: cloud.url, local: false, apiKeys: ["env:UNSET_CLOUD_KEY"], models: ["gpt"] },
          home: { kind: "openai", baseUrl: home.url, local: true, models: ["m"] },
        },
        routes: {
          pub: { tiers: ["cloud/gpt"], retry: { attempts: 1, baseMs: 0, maxMs: 0 } },
          both: { tiers: [["cloud/gpt"], ["home/m"]] },
        },
        breaker: { failureThreshold: 5, cooldownMs: 30_000 },
      },
      { env },
    );
    openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });

  after(async () => {
    await tandem?.close();
    await Promise.all([cloud?.close(), home?.close()]);
  });

  const ask = (model: string) => openai.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] });

  it("is a 503 naming the provider and the reference, not the client's bad key, and never opens the breaker", async () => {
    for (let i = 0; i < 7; i++) {
      await assert.rejects(ask("pub"), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err instanceof OpenAI.AuthenticationError, false, "blamed the client's key");
        assert.equal(err.status, 503, err.message);
        assert.equal(err.type, "service_unavailable_error");
        assert.equal(err.code, "service_unavailable");
        assert.match(err.message, /^503 tandem has no API key for provider 'cloud' \(tried env:UNSET_CLOUD_KEY: not set\)/);
        assert.doesNotMatch(err.message, /breaker/, `request ${i + 1}`);
        return true;
      });
    }
    assert.equal(cloud.requests.length, 0, "the upstream was never asked");
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      targets: { target: string; breaker: string }[];
    };
    assert.equal(status.targets.find((t) => t.target === "cloud/gpt")?.breaker, "closed");
  });

  it("is an Anthropic api_error, not authentication_error", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: "pub", max_tokens: 16, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError, String(err));
        assert.equal(err instanceof Anthropic.AuthenticationError, false);
        assert.equal(err.status, 503);
        assert.equal((err.error as { error?: { type?: string } }).error?.type, "api_error");
        assert.equal(err.headers.get("x-should-retry"), "false", "no use sending it again until the key is set");
        return true;
      },
    );
  });

  it("fails over to the route's next target", async () => {
    const answer = await ask("both").withResponse();
    assert.equal(answer.response.headers.get("x-tandem-target"), "home/m");
  });

  it("uses a key set while tandem runs at the next request, however many requests failed for it", async () => {
    // More than the breaker's threshold: had they counted against the target, it would now be skipped for 30 s.
    for (let i = 0; i < 6; i++) await assert.rejects(ask("pub"));
    env.UNSET_CLOUD_KEY = "sk-set-later";
    const answer = await ask("pub").withResponse();
    assert.equal(answer.response.headers.get("x-tandem-target"), "cloud/gpt");
    assert.equal(cloud.requests.at(-1)?.headers.authorization, "Bearer sk-set-later");
  });
});
