/**
 * The store's usage per target and day against /metrics, when an answer took more than one target:
 * each target's row counts the requests it answered and the tokens it reported, at its own price,
 * as tandem_attempts_total (`ok`) and tandem_tokens_total count them; never the first target charged
 * for what the next one reported.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** US dollars per million tokens. */
const BROKEN_PRICE = { input: 3, output: 15 };
const NEXT_PRICE = { input: 0.15, output: 0.6 };

let broken: FakeAnthropic;
let next: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  [broken, next] = await Promise.all([startFakeAnthropic({ models: ["m"] }), startFakeOpenAI({ models: ["m"] })]);
  // The Anthropic upstream says its input (message_start) and breaks after some text.
  broken.script(() => ({ kind: "broken_stream", chunks: ["The quick ", "brown "] }));
  next.script(() => ({ kind: "text", text: "fox jumps.", usage: { input: 40, output: 3 } }));
});

after(async () => {
  await Promise.all([broken?.close(), next?.close()]);
});

// A fresh server and store per test: the usage rows and metrics are each test's own.
beforeEach(async () => {
  tandem = await startTandem(
    {
      providers: {
        an: {
          kind: "anthropic",
          baseUrl: broken.url,
          local: false,
          apiKeys: ["env:AN_KEY"],
          models: { m: { price: BROKEN_PRICE } },
        },
        oa: { kind: "openai", baseUrl: next.url, local: false, models: { m: { price: NEXT_PRICE } } },
      },
      routes: { mid: { tiers: ["an/m", "oa/m"], retry: { attempts: 1 } } },
    },
    { store: true, env: { AN_KEY: "sk-ant-test" } },
  );
});

afterEach(async () => {
  await tandem?.close();
});

const chat = (stream: boolean) =>
  fetch(`${tandem.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "mid",
      messages: [{ role: "user", content: "Tell me" }],
      stream,
      ...(stream && { stream_options: { include_usage: true } }),
    }),
  });

/** One counter series of /metrics (0 when absent). */
function series(metrics: string, name: string, labels: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Each target's usage row (requests, input, output, cost), and the same as /metrics counts it. */
async function usageAndMetrics() {
  const store = tandem.server.store;
  assert.ok(store);
  const rows = await store.queryUsage();
  const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
  const stored = Object.fromEntries(
    rows.map((r) => [r.target, { requests: r.requests, input: r.inputTokens, output: r.outputTokens, cost: r.costUsd }]),
  );
  const counted = Object.fromEntries(
    ["an/m", "oa/m"].map((target) => [
      target,
      {
        requests: series(metrics, "tandem_attempts_total", `target="${target}",outcome="ok"`),
        input: series(metrics, "tandem_tokens_total", `target="${target}",direction="input"`),
        output: series(metrics, "tandem_tokens_total", `target="${target}",direction="output"`),
      },
    ]),
  );
  return { stored, counted };
}

const costOf = (price: { input: number; output: number }, input: number, output: number) =>
  (input * price.input + output * price.output) / 1e6;

describe("usage per target and day, for an answer more than one target gave", () => {
  it("a stream continued on the next target: the continuation's request and tokens are the next target's, at its price", async () => {
    const res = await chat(true);
    const raw = await res.text();
    assert.match(raw, /^: tandem switched from an\/m to oa\/m after upstream_error/m);
    const { stored, counted } = await usageAndMetrics();
    const next = stored["oa/m"];
    assert.deepEqual(
      { requests: next?.requests, input: next?.input, output: next?.output },
      { requests: 1, input: 40, output: 3 },
      "what the next target reported, under its own name",
    );
    assert.ok(Math.abs((next?.cost ?? 0) - costOf(NEXT_PRICE, 40, 3)) < 1e-12);
    const first = stored["an/m"];
    assert.equal(first?.requests, 0, "the target that broke did not answer the request");
    assert.equal(first?.input, 10, "its own input, which it reported before it broke");
    assert.ok(Math.abs((first?.cost ?? 0) - costOf(BROKEN_PRICE, first?.input ?? 0, first?.output ?? 0)) < 1e-12);
    for (const target of ["an/m", "oa/m"]) {
      const { cost: _, ...row } = stored[target] ?? {};
      assert.deepEqual(row, counted[target], `the store and /metrics agree on ${target}`);
    }
    // The request log keeps the one answer the client read: its first target (x-tandem-target of a stream).
    const [logged] = (await tandem.server.store?.queryRequests({ limit: 1 })) ?? [];
    assert.equal(logged?.target, res.headers.get("x-tandem-target"));
    assert.equal(logged?.target, "an/m");
    assert.equal(logged?.attempts, 2);
    assert.match(logged?.degraded ?? "", /switched mid-stream from an\/m to oa\/m/);
  });

  it("a whole answer given afresh by the next target: its request and tokens, and the broken target's reported input apart", async () => {
    const res = await chat(false);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-target"), "oa/m");
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    assert.deepEqual([body.usage.prompt_tokens, body.usage.completion_tokens], [40, 3]);
    const { stored, counted } = await usageAndMetrics();
    assert.deepEqual(
      { requests: stored["oa/m"]?.requests, input: stored["oa/m"]?.input, output: stored["oa/m"]?.output },
      { requests: 1, input: 40, output: 3 },
    );
    assert.equal(stored["an/m"]?.requests, 0);
    assert.equal(stored["an/m"]?.input, 10);
    for (const target of ["an/m", "oa/m"]) {
      const { cost: _, ...row } = stored[target] ?? {};
      assert.deepEqual(row, counted[target], `the store and /metrics agree on ${target}`);
    }
    const [logged] = (await tandem.server.store?.queryRequests({ limit: 1 })) ?? [];
    assert.equal(logged?.target, "oa/m", "the target that gave the answer");
  });
});
