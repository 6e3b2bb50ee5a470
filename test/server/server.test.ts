import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import type { FakeOpenAIUpstream } from "../support/fake-openai-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** An OpenAI-format upstream that sends one chunk, then waits, and notes when its client hangs up. */
async function startStallingUpstream(): Promise<{ url: string; closedAt: () => number | undefined; server: Server }> {
  let closedAt: number | undefined;
  const server = createServer((req, res) => {
    if (req.url?.endsWith("/models")) {
      res.end(JSON.stringify({ object: "list", data: [{ id: "slow", object: "model", created: 0, owned_by: "x" }] }));
      return;
    }
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = {
      id: "c1",
      object: "chat.completion.chunk",
      created: 0,
      model: "slow",
      choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }],
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    res.on("close", () => {
      closedAt = Date.now();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, closedAt: () => closedAt, server };
}

describe("server", () => {
  let upstream: FakeOpenAIUpstream;
  let stalling: Awaited<ReturnType<typeof startStallingUpstream>>;
  let tandem: RunningTandem;
  let locked: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini", "text-embedding-3-small"] });
    stalling = await startStallingUpstream();
    const providers = {
      up: { kind: "openai" as const, baseUrl: upstream.url },
      slow: { kind: "openai" as const, baseUrl: stalling.url },
      // Port 9 (discard) has no listener here: every connection is refused at once.
      gone: { kind: "openai" as const, baseUrl: "http://127.0.0.1:9/v1", models: ["m"] },
      local: { kind: "llamacpp" as const, models: { tiny: { path: "models/tiny.gguf" } } },
    };
    tandem = await startTandem({
      providers,
      routes: {
        auto: { tiers: ["up/gpt-4o-mini"] },
        stalls: { tiers: ["slow/slow"], timeouts: { firstTokenMs: 5000, idleMs: 300, totalMs: 5000 } },
        silent: { tiers: ["up/gpt-4o-mini"], timeouts: { firstTokenMs: 300, idleMs: 5000, totalMs: 5000 } },
      },
    });
    locked = await startTandem({ providers: { up: providers.up } }, { clientKeys: ["secret-key-1"] });
  });

  after(async () => {
    await tandem?.close();
    await locked?.close();
    await upstream?.close();
    stalling?.server.closeAllConnections();
    await new Promise((r) => stalling?.server.close(r));
  });

  it("serves /health, /ready, /v1/status and /metrics", async () => {
    assert.equal((await fetch(`${tandem.url}/health`)).status, 200);
    const ready = await fetch(`${tandem.url}/ready`);
    assert.equal(ready.status, 200);
    await new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x" }).chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
    });
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      targets: { target: string; health: string; requests: number }[];
      providers: { name: string; available: boolean; reason?: string }[];
      routes: { name: string }[];
    };
    const target = status.targets.find((t) => t.target === "up/gpt-4o-mini");
    assert.equal(target?.health, "healthy");
    assert.equal(target?.requests, 1);
    const local = status.providers.find((p) => p.name === "local") as {
      available: boolean;
      reason?: string;
      engine?: { running: boolean };
    };
    // Its one model's file is not there: it could answer nothing, and says why.
    assert.equal(local?.available, false);
    assert.equal(local?.reason, "no model file it lists can be read (tiny)");
    assert.equal(local?.engine?.running, false, "the engine starts on first use, not before");
    assert.equal(status.providers.find((p) => p.name === "up")?.available, true);
    assert.deepEqual(
      status.routes.map((r) => r.name),
      ["auto", "stalls", "silent"],
    );
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_requests_total\{dialect="openai",route="auto",target="up\/gpt-4o-mini",status="200"\} 1/);
    assert.match(metrics, /tandem_time_to_first_token_seconds_count\{target="up\/gpt-4o-mini"\} 1/);
  });

  it("lists routes and targets for OpenAI, Anthropic and Ollama clients", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x" });
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    assert.ok(ids.includes("auto") && ids.includes("up/gpt-4o-mini") && ids.includes("local/tiny"), ids.join(","));
    const one = await openai.models.retrieve("up/gpt-4o-mini");
    assert.equal(one.id, "up/gpt-4o-mini");
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "x" });
    const page = await anthropic.models.list();
    assert.ok(page.data.some((m) => m.id === "up/gpt-4o-mini" && m.type === "model"));
    const tags = await new Ollama({ host: tandem.url }).list();
    assert.ok(tags.models.some((m) => m.name === "auto"));
  });

  it("answers an unknown model with 404 in each dialect, listing what exists", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(
      openai.chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 404);
        assert.match(err.message, /gpt-9.*Available: auto/);
        return true;
      },
    );
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "x", maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: "gpt-9", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof Anthropic.NotFoundError,
    );
    await assert.rejects(new Ollama({ host: tandem.url }).chat({ model: "gpt-9", messages: [] }), (err: unknown) => {
      assert.equal((err as { status_code?: number }).status_code, 404);
      return true;
    });
  });

  it("answers a local model whose file is missing with a clear 503 naming the file, and keeps serving", async () => {
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "local/tiny", messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /local\/tiny cannot be loaded: .*tiny\.gguf cannot be read \(ENOENT\)/);
    assert.equal((await fetch(`${tandem.url}/health`)).status, 200);
  });

  it("answers unknown endpoints with 404 in the dialect of the path", async () => {
    const a = await fetch(`${tandem.url}/v1/nothing`);
    assert.equal(a.status, 404);
    assert.equal(typeof ((await a.json()) as { error: { message: string } }).error.message, "string");
    const b = await fetch(`${tandem.url}/api/nothing`);
    assert.equal(b.status, 404);
    assert.equal(typeof ((await b.json()) as { error: string }).error, "string");
  });

  it("passes an upstream 429 on as a 429 with Retry-After", async () => {
    upstream.script(() => ({ kind: "error", status: 429, message: "Rate limit reached", headers: { "retry-after": "7" } }));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "up/gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "rate_limit_error");
    assert.match(body.error.message, /Rate limit reached/);
    upstream.script(() => ({ kind: "text", text: "ok" }));
  });

  it("requires a key when keys are configured, in the client's dialect, but not for /health", async () => {
    assert.equal((await fetch(`${locked.url}/health`)).status, 200);
    const openai = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(openai.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError);
    const anthropic = new Anthropic({ baseURL: locked.url, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: "up/gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof Anthropic.AuthenticationError,
    );
    const noKey = await fetch(`${locked.url}/api/tags`);
    assert.equal(noKey.status, 401);
    assert.equal(typeof ((await noKey.json()) as { error: string }).error, "string");
    const good = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "secret-key-1", maxRetries: 0 });
    const answer = await good.chat.completions.create({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    assert.equal(typeof answer.choices[0]?.message.content, "string");
    const viaHeader = await fetch(`${locked.url}/v1/models`, { headers: { "x-api-key": "secret-key-1" } });
    assert.equal(viaHeader.status, 200);
  });

  it("aborts the upstream request as soon as the client disconnects", async () => {
    const controller = new AbortController();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "slow/slow", messages: [{ role: "user", content: "x" }], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /Hel/);
    controller.abort();
    // The upstream never ends its stream, and the direct target's idle limit is 15 s: a close within
    // the 10 s waited here is the client's abort passed on (at once on a quiet box; the bound is for a loaded one).
    const until = Date.now() + 10_000;
    while (stalling.closedAt() === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.ok(stalling.closedAt() !== undefined, "the upstream connection was not closed when the client left");
  });

  it("ends a stalled stream with an in-band error once the route's idle limit passes", async () => {
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "stalls", messages: [{ role: "user", content: "x" }], stream: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-route"), "stalls");
    const text = await res.text();
    assert.match(text, /Hel/);
    assert.match(text, /"error"/);
    assert.match(text, /no token for 300 ms/);
    assert.doesNotMatch(text, /\[DONE\]/);
  });

  it("answers an unreachable upstream with 503 in the client's dialect, without waiting for a limit", async () => {
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gone/m", messages: [{ role: "user", content: "x" }], stream: false }),
    });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: string };
    // The refused connection decided, not a timeout.
    assert.match(body.error, /unreachable \(ECONNREFUSED\)/);
    assert.doesNotMatch(body.error, /timeout|within \d+ ms/);
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(
      openai.chat.completions.create({ model: "gone/m", messages: [{ role: "user", content: "x" }], stream: true }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 503,
    );
  });

  it("gives up on an upstream that sends headers but no token within the route's first-token limit: 504", async () => {
    upstream.script(() => ({ kind: "raw", body: [], end: "hang" }));
    try {
      const started = Date.now();
      const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "x", maxRetries: 0 });
      await assert.rejects(
        anthropic.messages.create({ model: "silent", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
        (err: unknown) => {
          assert.ok(err instanceof Anthropic.APIError);
          assert.equal(err.status, 504);
          assert.match(err.message, /no first token within 300 ms/);
          return true;
        },
      );
      const took = Date.now() - started;
      // The upstream hangs for good: the 504 above is the limit's doing, once it had passed.
      assert.ok(took >= 300, `took ${took} ms`);
    } finally {
      upstream.script(() => ({ kind: "text", text: "ok" }));
    }
  });
});
