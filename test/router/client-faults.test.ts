/**
 * What counts against a target: a client's bad request and tandem's own internal failures never move
 * its breaker, its error rate in /v1/status, or the key it used; real upstream failures do.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { StreamEvent } from "../../src/core/index.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

interface TargetStatus {
  target: string;
  breaker: string;
  errorRate: number;
  failures: number;
  health: string;
}

async function targetStatus(tandem: RunningTandem, target: string): Promise<TargetStatus | undefined> {
  const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as { targets: TargetStatus[] };
  return body.targets.find((t) => t.target === target);
}

async function chat(tandem: RunningTandem, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${tandem.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** The JSON text of a schema nested `depth` levels deep (too deep for JSON.stringify to write). */
function nestedSchemaText(depth: number): string {
  return `${'{"type":"object","properties":{"x":'.repeat(depth)}{"type":"string"}${"}}".repeat(depth)}`;
}

describe("client faults and internal failures never count against a target", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;
  const target = "cloud/m";
  const messages = [{ role: "user", content: "hi" }];

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["m"] });
    tandem = await startTandem(
      {
        providers: { cloud: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K1", "env:K2"], models: ["m"] } },
        routes: { one: { tiers: [target], retry: { attempts: 1, baseMs: 1, maxMs: 10 } } },
        breaker: { failureThreshold: 5, cooldownMs: 60_000 },
      },
      { env: { K1: "first-key-0123456789", K2: "second-key-0123456789" } },
    );
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("leaves the breaker closed and the error rate at 0 after 10 client 400s and 10 internal errors", async () => {
    upstream.script(() => ({ kind: "error", status: 400 }));
    for (let i = 0; i < 10; i++) {
      const answer = await chat(tandem, { model: "one", messages });
      assert.equal(answer.status, 400, answer.text);
    }

    // Tandem failing inside while it prepares an attempt: a TypeError, and Node's coded ERR_INVALID_ARG_TYPE.
    const slot = tandem.server.catalog.slots.get("cloud");
    assert.ok(slot?.provider);
    const inner = slot.provider as { chat: unknown };
    let thrown = 0;
    inner.chat = (): AsyncIterable<StreamEvent> => ({
      [Symbol.asyncIterator]: () => ({
        next: () => {
          thrown++;
          const err =
            thrown % 2 === 0
              ? Object.assign(new TypeError('The "chunk" argument must be of type string'), { code: "ERR_INVALID_ARG_TYPE" })
              : new TypeError("Cannot read properties of undefined (reading 'content')");
          return Promise.reject(err);
        },
      }),
    });
    try {
      for (let i = 0; i < 10; i++) {
        const answer = await chat(tandem, { model: "one", messages });
        assert.equal(answer.status, 500, answer.text);
      }
    } finally {
      delete (inner as { chat?: unknown }).chat;
    }
    assert.equal(thrown, 10, "each internal failure was tried once, never retried");

    // A request nested so deep that its upstream body cannot be built: the client's fault, nothing sent.
    const sentBefore = upstream.requests.length;
    const deep = await chat(
      tandem,
      `{"model":"one","messages":${JSON.stringify(messages)},"tools":[{"type":"function","function":{"name":"f","parameters":${nestedSchemaText(20_000)}}}]}`,
    );
    assert.ok(deep.status >= 400 && deep.status < 500, `a 4xx, got ${deep.status}: ${deep.text.slice(0, 300)}`);
    assert.equal(upstream.requests.length, sentBefore, "nothing was sent upstream");

    const status = await targetStatus(tandem, target);
    assert.equal(status?.breaker ?? "closed", "closed");
    assert.equal(status?.errorRate ?? 0, 0);
    assert.equal(status?.failures ?? 0, 0);

    // No key was rested on the way: the next request still goes out with the first key.
    upstream.script(() => ({ kind: "text", text: "fine" }));
    const ok = await chat(tandem, { model: "one", messages });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(upstream.requests.at(-1)?.headers.authorization, "Bearer first-key-0123456789");
    assert.equal((await targetStatus(tandem, target))?.health, "healthy");
  });

  it("opens the breaker after 5 real upstream 503s", async () => {
    upstream.script(() => ({ kind: "error", status: 503 }));
    for (let i = 0; i < 5; i++) {
      const answer = await chat(tandem, { model: "one", messages });
      assert.equal(answer.status, 503, answer.text);
    }
    const status = await targetStatus(tandem, target);
    assert.equal(status?.breaker, "open");
    assert.ok((status?.errorRate ?? 0) > 0.5, `error rate ${status?.errorRate}`);
    assert.equal(status?.failures, 5);
  });
});

describe("a client's own deadline never counts against a target", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;
  const target = "cloud/m";

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["m"] });
    tandem = await startTandem({
      providers: { cloud: { kind: "openai", baseUrl: upstream.url, models: ["m"] } },
      routes: {
        one: {
          tiers: [target],
          retry: { attempts: 1, baseMs: 1, maxMs: 10 },
          timeouts: { connectMs: 1000, firstTokenMs: 5000, idleMs: 5000, totalMs: 10_000 },
        },
      },
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("leaves a target that is only slower than the client would wait healthy in /v1/status, its breaker closed", async () => {
    // The answer starts, then takes longer than the client's 200 ms (well within the route's limits).
    upstream.script(() => ({ kind: "stall", chunks: ["The quick "] }));
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tandem-deadline-ms": "200" },
        body: JSON.stringify({ model: "one", messages: [{ role: "user", content: "hi" }] }),
      });
      const text = await res.text();
      assert.equal(res.status, 504, text);
    }
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      targets: (TargetStatus & { lastError?: unknown })[];
    };
    const stats = status.targets.find((t) => t.target === target);
    assert.equal(stats?.breaker ?? "closed", "closed");
    assert.equal(stats?.failures ?? 0, 0);
    assert.equal(stats?.errorRate ?? 0, 0);
    assert.equal(stats?.lastError, undefined);
    assert.notEqual(stats?.health, "unhealthy");
  });
});
