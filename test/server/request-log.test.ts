/**
 * The server writes what it does into the encrypted store: one request log row per model request
 * (content only when asked for), usage per target, and one egress audit row per body sent to a
 * cloud target; GET /v1/audit reads the audit back.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { connectResponsesSocket } from "../support/responses-socket-client.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe("request log, usage with cost, and egress audit in the store", () => {
  let cloud: FakeUpstream;
  let nearby: FakeUpstream;
  let tandem: RunningTandem;
  let withContent: RunningTandem;
  let config: Parameters<typeof startTandem>[0];

  before(async () => {
    cloud = await startFakeOpenAI({ models: ["m"] });
    nearby = await startFakeOpenAI({ models: ["m"] });
    cloud.script(() => ({ kind: "text", text: "from the cloud", usage: { input: 11, output: 3 } }));
    config = {
      providers: {
        cloud: {
          kind: "openai" as const,
          baseUrl: cloud.url,
          local: false,
          models: { m: { price: { input: 0.15, output: 0.6 } } },
        },
        near: { kind: "openai" as const, baseUrl: nearby.url, models: ["m"] },
        gone: { kind: "openai" as const, baseUrl: "http://127.0.0.1:9/v1", local: false, models: ["m"] },
      },
      routes: { auto: { tiers: ["cloud/m"] } },
    };
    tandem = await startTandem(config, { store: true });
    withContent = await startTandem(config, { store: { logContent: true } });
  });

  after(async () => {
    await tandem?.close();
    await withContent?.close();
    await cloud?.close();
    await nearby?.close();
  });

  it("logs each model request with its route, target, status, timing and tokens, but no content by default", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hello there" }] });
    const stream = await client.chat.completions.create({
      model: "cloud/m",
      messages: [{ role: "user", content: "again" }],
      stream: true,
    });
    for await (const _ of stream);
    await client.chat.completions.create({ model: "nope/m", messages: [{ role: "user", content: "x" }] }).catch(() => undefined);
    await fetch(`${tandem.url}/v1/models`);
    await settle();
    const store = tandem.server.store;
    assert.ok(store);
    const rows = (await store.queryRequests()).reverse();
    assert.equal(rows.length, 3, "model requests only: not the model list");
    const [whole, streamed, unknown] = rows;
    assert.equal(whole?.route, "auto");
    assert.equal(whole?.target, "cloud/m");
    assert.equal(whole?.dialect, "openai");
    assert.equal(whole?.status, 200);
    assert.equal(whole?.attempts, 1);
    assert.equal(whole?.inputTokens, 11);
    assert.equal(whole?.outputTokens, 3);
    assert.ok((whole?.latencyMs ?? 0) > 0);
    assert.equal(whole?.requestContent, null);
    assert.equal(whole?.responseContent, null);
    assert.equal(streamed?.route, null);
    assert.equal(streamed?.target, "cloud/m");
    assert.equal(streamed?.outputTokens, 3);
    assert.equal(unknown?.status, 404);
    assert.equal(unknown?.errorCode, "not_found");
    const usage = await store.queryUsage();
    assert.deepEqual(
      usage.map((u) => [u.target, u.requests, u.inputTokens, u.outputTokens]),
      [["cloud/m", 2, 22, 6]],
    );
    // 22 input tokens at $0.15 and 6 output tokens at $0.60 per million.
    assert.ok(Math.abs((usage[0]?.costUsd ?? 0) - (22 * 0.15 + 6 * 0.6) / 1e6) < 1e-12);
  });

  it("gives the log line and the request log row the id its client was given (x-request-id, request-id, an error's request_id)", async () => {
    const lines: string[] = [];
    const logged = await startTandem(config, { store: true, log: lines });
    try {
      const post = (path: string, body: unknown) =>
        fetch(`${logged.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify(body),
        });
      const openai = await post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "hi" }] });
      const anthropic = await post("/v1/messages", {
        model: "cloud/m",
        max_tokens: 16,
        messages: [{ role: "user", content: "hi" }],
      });
      const refused = await post("/v1/messages", {
        model: "nope/m",
        max_tokens: 16,
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(openai.status, 200);
      assert.equal(anthropic.status, 200);
      assert.equal(refused.status, 404);
      const refusedBody = (await refused.json()) as { request_id?: string };
      const given = [openai.headers.get("x-request-id"), anthropic.headers.get("request-id"), refusedBody.request_id];
      for (const id of given) assert.match(String(id), /^req_/);
      assert.equal(refused.headers.get("request-id"), refusedBody.request_id);
      await settle();
      const requestLines = lines
        .map((line) => JSON.parse(line) as { msg: string; requestId?: string })
        .filter((line) => line.msg === "request");
      assert.deepEqual(
        requestLines.map((line) => line.requestId),
        given,
      );
      const store = logged.server.store;
      assert.ok(store);
      assert.deepEqual(
        (await store.queryRequests()).reverse().map((row) => row.requestId),
        given,
      );
    } finally {
      await logged.close();
    }
  });

  it("logs a turn of the Responses WebSocket mode as answered (200)", async () => {
    const store = tandem.server.store;
    assert.ok(store);
    const before = (await store.queryRequests({ limit: 1 }))[0]?.id ?? 0;
    const { socket, turn } = await connectResponsesSocket(tandem.url);
    const events = await turn({ type: "response.create", model: "cloud/m", store: false, input: "hello" });
    assert.ok(events.some((e) => e.type === "response.completed"));
    socket.close();
    await settle();
    const [row] = (await store.queryRequests({ limit: 5 })).filter((r) => r.id > before);
    assert.equal(row?.status, 200, "a turn runs as an injected request, whose response is ended, never 'finished'");
    assert.equal(row?.errorCode, null);
  });

  it("records every body sent to a cloud target, hashed, and none sent to a local one", async () => {
    const before = (await audit(tandem.url)).length;
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await client.chat.completions.create({ model: "near/m", messages: [{ role: "user", content: "stays here" }] });
    assert.equal((await audit(tandem.url)).length, before, "a loopback upstream is local: nothing left the machine");
    await client.chat.completions.create({ model: "cloud/m", messages: [{ role: "user", content: "leaves" }] });
    const rows = await audit(tandem.url);
    assert.equal(rows.length, before + 1);
    const row = rows[0] as Record<string, unknown>;
    assert.equal(row.target, "cloud/m");
    assert.equal(row.sensitivity, "public");
    assert.deepEqual(row.redactions, {});
    assert.match(String(row.sha256), /^[0-9a-f]{64}$/);
    // The fake saw the same JSON the hash was taken of (undici sends the string as it is).
    const sent = JSON.stringify(cloud.requests.at(-1)?.body);
    assert.equal(row.bytes, Buffer.byteLength(sent));
    assert.equal(row.sha256, createHash("sha256").update(sent).digest("hex"));
    assert.ok(!JSON.stringify(rows).includes("leaves"), "the audit never holds content");
    assert.equal(row.sent, true);
    await client.chat.completions.create({ model: "gone/m", messages: [{ role: "user", content: "x" }] }).catch(() => undefined);
    // Each attempt's row is committed before its connection is tried; a refused one is marked not sent.
    const refused = (await audit(tandem.url)).slice(0, -before - 1) as Record<string, unknown>[];
    assert.deepEqual(
      refused.map((r) => [r.target, r.sent]),
      [
        ["gone/m", false],
        ["gone/m", false],
      ],
      "both attempts (the route default retries once) were refused: recorded as not sent",
    );
  });

  it("keeps the conversation and the answer when content logging is on", async () => {
    const client = new OpenAI({ baseURL: `${withContent.url}/v1`, apiKey: "x", maxRetries: 0 });
    await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "remember me" }] });
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "and me" }],
      stream: true,
    });
    for await (const _ of stream);
    await settle();
    const store = withContent.server.store;
    assert.ok(store);
    const [streamed, whole] = await store.queryRequests();
    assert.match(whole?.requestContent ?? "", /remember me/);
    assert.equal(JSON.parse(whole?.responseContent ?? "{}").text, "from the cloud");
    assert.match(streamed?.requestContent ?? "", /and me/);
    assert.equal(JSON.parse(streamed?.responseContent ?? "{}").text, "from the cloud");
  });

  it("answers bad audit queries with a 400 naming the parameter", async () => {
    for (const [query, param] of [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["since=yesterday", "since"],
      ["limit=1&limit=2", "limit"],
    ] as const) {
      const res = await fetch(`${tandem.url}/v1/audit?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: { param: string; message: string } };
      assert.equal(body.error.param, param, query);
    }
    const limited = await fetch(`${tandem.url}/v1/audit?limit=1&since=1h&target=cloud/m`);
    assert.equal(limited.status, 200);
    assert.equal(((await limited.json()) as { data: unknown[] }).data.length, 1);
  });

  it("says the audit is off when there is no store", async () => {
    const bare = await startTandem({ providers: { near: { kind: "openai", baseUrl: nearby.url, models: ["m"] } } });
    try {
      const res = await fetch(`${bare.url}/v1/audit`);
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /store is disabled/);
    } finally {
      await bare.close();
    }
  });
});

async function audit(url: string): Promise<unknown[]> {
  const res = await fetch(`${url}/v1/audit`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: unknown[] }).data;
}
