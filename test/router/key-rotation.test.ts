import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

async function targetStatus(tandem: RunningTandem, target: string) {
  const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
    targets: { target: string; breaker: string; failures: number }[];
  };
  return body.targets.find((t) => t.target === target);
}

describe("key pools", () => {
  let upstream: FakeUpstream;
  let anthropic: FakeUpstream;
  let tandem: RunningTandem;
  const keysSeen: string[] = [];
  const anthropicKeysSeen: string[] = [];

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["m"] });
    upstream.script((req) => {
      const auth = String(req.headers.authorization ?? "");
      keysSeen.push(auth.replace("Bearer ", ""));
      if (auth === "Bearer sk-revoked") return { kind: "error", status: 401, message: "Incorrect API key provided" };
      if (auth === "Bearer sk-busy")
        return { kind: "error", status: 429, message: "Rate limit reached", headers: { "retry-after": "60" } };
      return { kind: "text", text: "answered" };
    });
    anthropic = await startFakeAnthropic();
    anthropic.script((req) => {
      const key = String(req.headers["x-api-key"] ?? "");
      anthropicKeysSeen.push(key);
      if (key === "sk-revoked") return { kind: "error", status: 401, message: "invalid x-api-key" };
      return { kind: "text", text: "answered", usage: { input: 3, output: 1 } };
    });
    tandem = await startTandem(
      {
        providers: {
          p: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K1", "env:K2", "env:K3"], models: ["m"] },
          lone: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K1"], models: ["m"] },
          embeds: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K1", "env:K3"], models: ["m"] },
          claude: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:K1", "env:K3"], models: ["m"] },
          spent: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K1", "env:K2"], models: ["m"] },
          good: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K3"], models: ["m"] },
        },
        routes: {
          "claude-whole": { tiers: ["claude/m"], streamUpstream: false },
          pooled: { tiers: ["spent/m", "good/m"] },
        },
      },
      { env: { K1: "sk-revoked", K2: "sk-busy", K3: "sk-good" } },
    );
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
    await anthropic?.close();
  });

  it("moves past a refused and a rate-limited key at once, one counted attempt each, then skips them", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const first = await client.chat.completions
      .create({ model: "p/m", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(first.data.choices[0]?.message.content, "answered");
    assert.equal(first.response.headers.get("x-tandem-attempts"), "3", "each key tried is an attempt of its own");
    assert.equal(first.response.headers.get("x-tandem-degraded"), "false", "the same target answered");
    assert.deepEqual(keysSeen, ["sk-revoked", "sk-busy", "sk-good"]);
    // The keys were at fault, not the target: its breaker and error count are untouched.
    const status = await targetStatus(tandem, "p/m");
    assert.equal(status?.breaker, "closed");
    assert.equal(status?.failures, 0);
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_key_rotations_total\{provider="p",reason="authentication"\} 1/);
    assert.match(metrics, /tandem_key_rotations_total\{provider="p",reason="rate_limited"\} 1/);

    keysSeen.length = 0;
    await client.chat.completions.create({ model: "p/m", messages: [{ role: "user", content: "again" }], stream: true });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(keysSeen, ["sk-good"], "resting keys are not tried again right away");
  });

  it("lists each key's failure in the attempt log, and counts only the last against the target", async () => {
    keysSeen.length = 0;
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const res = await client.chat.completions
      .create({ model: "pooled", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(res.data.choices[0]?.message.content, "answered");
    assert.deepEqual(keysSeen, ["sk-revoked", "sk-busy", "sk-good"]);
    assert.equal(res.response.headers.get("x-tandem-target"), "good/m");
    assert.equal(res.response.headers.get("x-tandem-attempts"), "3");
    const degraded = res.response.headers.get("x-tandem-degraded") ?? "";
    assert.match(degraded, /spent\/m: authentication after \d+ ms .*; spent\/m: rate_limited after/);
    assert.doesNotMatch(degraded, /sk-/, "no key in the attempt log");
    // The refused key rotated (not the target's fault); the rate limit with no key left counts once.
    assert.equal((await targetStatus(tandem, "spent/m"))?.failures, 1);
  });

  it("passes the upstream's own 401 on when the only key is refused", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: "lone/m", messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e);
    assert.equal((err as { status?: number }).status, 401);
    assert.match(String((err as Error).message), /Incorrect API key/);
  });

  it("rotates keys for embeddings and for Anthropic upstreams too, each request sent with the key it was given", async () => {
    keysSeen.length = 0;
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const embedded = await openai.embeddings.create({ model: "embeds/m", input: "hello" });
    assert.equal(embedded.data.length, 1);
    assert.deepEqual(keysSeen, ["sk-revoked", "sk-good"]);

    const claude = new Anthropic({ baseURL: tandem.url, apiKey: "x", maxRetries: 0 });
    const message = await claude.messages.create({
      model: "claude/m",
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.deepEqual(message.content, [{ type: "text", text: "answered" }]);
    assert.deepEqual(anthropicKeysSeen, ["sk-revoked", "sk-good"]);
    // A whole (not streamed) upstream answer goes out with the chosen key as well.
    anthropicKeysSeen.length = 0;
    await claude.messages.create({ model: "claude-whole", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    assert.deepEqual(anthropicKeysSeen, ["sk-good"]);
  });
});

describe("keys in the encrypted store", () => {
  it("sends a provider key kept in the server's store (store:NAME), as `tandem keys set NAME --store` keeps it", async () => {
    const upstream = await startFakeOpenAI({ models: ["m"], apiKey: "sk-from-store" });
    const tandem = await startTandem(
      { providers: { p: { kind: "openai", baseUrl: upstream.url, apiKeys: ["store:p-key"], models: ["m"] } } },
      { store: { secrets: { "p-key": "sk-from-store" } } },
    );
    try {
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      for (const stream of [false, true]) {
        const res = await client.chat.completions.create({ model: "p/m", messages: [{ role: "user", content: "hi" }], stream });
        if (!stream) assert.equal((res as OpenAI.ChatCompletion).choices[0]?.message.content, "Hello from openai");
        else for await (const _chunk of res as AsyncIterable<unknown>);
      }
      assert.deepEqual(
        upstream.requests.map((r) => r.headers.authorization),
        ["Bearer sk-from-store", "Bearer sk-from-store"],
      );
    } finally {
      await tandem.close();
      await upstream.close();
    }
  });
});
