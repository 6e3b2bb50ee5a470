/**
 * Per-target state (metric series, /v1/status lines, breakers, usage rows) is bounded by the
 * configuration, not by the model names clients send: a provider whose model list cannot be read
 * takes names as given, and each one used to become ~19 series and a status line, kept forever
 * (also for names the upstream refused).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("a provider whose model list cannot be read", () => {
  const served = Array.from({ length: 25 }, (_, i) => `m${i}`);
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: served, listFails: true });
    tandem = await startTandem(
      {
        providers: { nl: { kind: "openai", baseUrl: upstream.url, local: false } },
        // A route's tier is named by the configuration: tracked whatever clients send.
        routes: { r: { tiers: ["nl/m24"] } },
      },
      { store: true },
    );
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  const chat = (model: string) =>
    fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });

  async function metricTargets(): Promise<Set<string>> {
    const text = await (await fetch(`${tandem.url}/metrics`)).text();
    return new Set([...text.matchAll(/target="([^"]*)"/g)].map((m) => m[1] ?? ""));
  }

  async function statusTargets(): Promise<{ target: string; requests: number; failures: number }[]> {
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      targets: { target: string; requests: number; failures: number }[];
    };
    return status.targets;
  }

  it("adds no series, status line or usage row for names the upstream refuses: they share nl/other", async () => {
    for (let i = 0; i < 30; i++) {
      const res = await chat(`nl/rand-${i}-${Math.random().toString(36).slice(2)}`);
      assert.equal(res.status, 404, "the upstream refused the name");
    }
    const series = await metricTargets();
    assert.ok(![...series].some((t) => t.includes("rand-")), [...series].join(", "));
    assert.ok(series.has("nl/other"));
    // A refusal says nothing about the target's health: no status line at all, not even nl/other's.
    assert.deepEqual(await statusTargets(), []);
  });

  it("tracks a name once its upstream answered it, 20 per provider; the rest are nl/other", async () => {
    for (const model of served) assert.equal((await chat(`nl/${model}`)).status, 200, model);
    for (const model of served) assert.equal((await chat(`nl/${model}`)).status, 200, model);
    const series = await metricTargets();
    const own = served.filter((m) => series.has(`nl/${m}`));
    // m24 is a route's tier; the first 20 others answered get series of their own, the rest none.
    assert.deepEqual(own, [...served.slice(0, 20), "m24"]);
    assert.deepEqual([...series].filter((t) => t.startsWith("nl/")).sort(), [...own.map((m) => `nl/${m}`), "nl/other"].sort());
    const status = await statusTargets();
    assert.deepEqual(status.map((t) => t.target).sort(), [...own.map((m) => `nl/${m}`), "nl/other"].sort());
    // nl/m20..m23, two requests each, went to nl/other with the refused names (which count as no failure).
    assert.equal(status.find((t) => t.target === "nl/other")?.requests, 8);
    assert.equal(status.find((t) => t.target === "nl/m0")?.requests, 2);

    await new Promise((resolve) => setTimeout(resolve, 60));
    const usage = (await tandem.server.store?.queryUsage()) ?? [];
    assert.deepEqual(
      usage.map((u) => u.target).sort(),
      own
        .map((m) => `nl/${m}`)
        .concat("nl/other")
        .sort(),
    );
    assert.equal(usage.find((u) => u.target === "nl/other")?.requests, 8);
  });

  it("still answers each request under the name it asked for (header and log)", async () => {
    const res = await chat("nl/m22");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-target"), "nl/m22");
  });
});
