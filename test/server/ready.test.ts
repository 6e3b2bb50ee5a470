/**
 * GET /ready answers 200 only when a provider could answer a request (README: "200 once the config is
 * loaded and a provider is usable, else 503 with the reason"), and /v1/status says which providers
 * are not usable and why: a provider none of whose key references resolves, a local engine whose
 * model file is not there.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

interface StatusBody {
  providers: { name: string; available: boolean; reason?: string; keys: string[] }[];
}

let upstream: FakeOpenAIUpstream;
const running: RunningTandem[] = [];

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
});

after(async () => {
  await Promise.all(running.map((t) => t.close()));
  await upstream?.close();
});

async function start(...args: Parameters<typeof startTandem>): Promise<RunningTandem> {
  const tandem = await startTandem(...args);
  running.push(tandem);
  return tandem;
}

async function status(tandem: RunningTandem): Promise<StatusBody> {
  return (await (await fetch(`${tandem.url}/v1/status`)).json()) as StatusBody;
}

describe("/ready and a provider's availability", () => {
  it("is 503 naming each provider's missing key when no key reference resolves; /v1/status says so", async () => {
    const remote = (key: string) => ({ kind: "openai" as const, baseUrl: upstream.url, apiKeys: [key], models: ["gpt-4o-mini"] });
    const tandem = await start(
      { providers: { x: remote("env:NOPE_NOT_SET"), s: remote("store:nokey") } },
      { env: { SOME_OTHER_KEY: "sk-not-this-one" }, store: true },
    );
    const ready = await fetch(`${tandem.url}/ready`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { status: string; reason: string };
    assert.equal(body.status, "not_ready");
    assert.match(
      body.reason,
      /^no provider is usable: x: tandem has no API key for provider 'x' \(tried env:NOPE_NOT_SET: not set\)/,
    );
    assert.match(body.reason, /; s: tandem has no API key for provider 's' \(tried store:nokey/);
    const providers = (await status(tandem)).providers;
    for (const name of ["x", "s"]) {
      const provider = providers.find((p) => p.name === name);
      assert.equal(provider?.available, false, name);
      assert.match(provider?.reason ?? "", new RegExp(`no API key for provider '${name}'`));
    }
  });

  it("is 200 once one provider has a key, naming only the usable ones", async () => {
    const tandem = await start(
      {
        providers: {
          x: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:NOPE_NOT_SET"], models: ["gpt-4o-mini"] },
          y: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:TEST_KEY"], models: ["gpt-4o-mini"] },
          open: { kind: "openai", baseUrl: upstream.url, models: ["gpt-4o-mini"] },
        },
      },
      { env: { TEST_KEY: "sk-test-secret-value-123456" } },
    );
    const ready = await fetch(`${tandem.url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", providers: ["y", "open"] });
    const text = await (await fetch(`${tandem.url}/v1/status`)).text();
    assert.doesNotMatch(text, /sk-test-secret-value-123456/, "never the key");
    const providers = (JSON.parse(text) as StatusBody).providers;
    assert.deepEqual(
      providers.map((p) => [p.name, p.available]),
      [
        ["x", false],
        ["y", true],
        ["open", true],
      ],
    );
  });

  it("is 503 when the only provider is a local engine whose model file is missing", async () => {
    const tandem = await start({ providers: { local: { kind: "llamacpp", models: { q: { path: "/nonexistent/q.gguf" } } } } });
    const ready = await fetch(`${tandem.url}/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), {
      status: "not_ready",
      reason: "no provider is usable: local: no model file it lists can be read (q)",
    });
    const local = (await status(tandem)).providers.find((p) => p.name === "local");
    assert.equal(local?.available, false);
    assert.equal(local?.reason, "no model file it lists can be read (q)");
  });

  it("still says no provider is configured when there is none", async () => {
    const tandem = await start({ providers: {} });
    const ready = await fetch(`${tandem.url}/ready`);
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { reason: string }).reason, /no usable provider is configured/);
  });
});
