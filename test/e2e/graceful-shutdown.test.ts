/**
 * SIGTERM to `tandem serve` (the real CLI, its own process) while answers are running: no new
 * request is taken from the signal on; a stream that ends within `server.shutdownGraceMs` ends
 * normally; past it, a stream is ended with its dialect's in-band error (OpenAI's error chunk,
 * Anthropic's `event: error`) and a proper end, and a client waiting for a whole answer gets a 503 in
 * its dialect, never an empty reply; the upstream requests are aborted; the process exits 0; and the
 * egress audit rows of what was sent are there after a restart.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startSlowUpstream } from "../support/slow-openai-upstream.js";
import { spawnServe } from "../support/tandem-serve.js";

const children: ChildProcess[] = [];
const upstreams: Array<{ close(): void }> = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const upstream of upstreams) upstream.close();
});

/** A home, a config over the slow upstream (route `slowr`, one attempt, time limits far past the test) and a store key. */
function setUp(upstream: string): { home: string; config: string; key: string } {
  const home = mkdtempSync(join(tmpdir(), "tandem-shutdown-"));
  const config = join(home, "tandem.config.yaml");
  writeFileSync(
    config,
    JSON.stringify({
      providers: { oa: { kind: "openai", baseUrl: upstream, apiKeys: ["env:K"], local: false, models: ["slow"] } },
      routes: {
        slowr: {
          tiers: ["oa/slow"],
          retry: { attempts: 1 },
          timeouts: { firstTokenMs: 60_000, idleMs: 60_000, totalMs: 120_000 },
        },
      },
    }),
  );
  return { home, config, key: randomBytes(32).toString("hex") };
}

/** A request in flight: its status and headers once they come, and its whole body text once it ends (or breaks). */
interface Flight {
  status: Promise<number>;
  /** What has arrived so far. */
  text(): string;
  /** The body, and whether it ended cleanly (false: the connection broke or never answered). */
  done: Promise<{ status: number; body: string; ended: boolean }>;
}

function send(url: string, path: string, body: unknown): Flight {
  let text = "";
  let resolveStatus: (status: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => {
    resolveStatus = resolve;
  });
  const done = (async () => {
    let code = 0;
    try {
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify(body),
      });
      code = res.status;
      resolveStatus(code);
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
      return { status: code, body: text, ended: true };
    } catch {
      resolveStatus(code);
      return { status: code, body: text, ended: false };
    }
  })();
  return { status, text: () => text, done };
}

const chat = (ms: number, stream: boolean) => ({
  model: "slowr",
  stream,
  messages: [{ role: "user", content: `answer slowly, ms:${ms}` }],
});
const messages = (ms: number, stream: boolean) => ({ ...chat(ms, stream), max_tokens: 100 });

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a new connection is refused, or its request answered 503 (the shutdown has begun either way). */
async function refused(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chat(100, false)),
    });
    return res.status === 503;
  } catch {
    return true;
  }
}

describe("tandem serve on SIGTERM", () => {
  it("lets the answers running finish within the grace period, refusing new requests meanwhile", async () => {
    const upstream = await startSlowUpstream();
    upstreams.push(upstream);
    const { home, config, key } = setUp(upstream.url);
    const tandem = await spawnServe(home, config, key, { env: { K: "sk-up", TANDEM_SHUTDOWN_GRACE_MS: "5000" } });
    children.push(tandem.child);
    const exited = new Promise<number | null>((resolve) => tandem.child.on("exit", (code) => resolve(code)));
    const openai = send(tandem.url, "/v1/chat/completions", chat(1200, true));
    const anthropic = send(tandem.url, "/v1/messages", messages(1200, true));
    const whole = send(tandem.url, "/v1/chat/completions", chat(1200, false));
    await until("both streams' first words", () => openai.text().includes("w0") && anthropic.text().includes("w0"));
    tandem.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(await refused(tandem.url), "a request after the signal is refused");

    const [o, a, w] = await Promise.all([openai.done, anthropic.done, whole.done]);
    assert.ok(o.ended && o.body.trimEnd().endsWith("data: [DONE]"), o.body.slice(-300));
    assert.doesNotMatch(o.body, /shutting down/);
    assert.ok(a.ended && a.body.includes("event: message_stop"), a.body.slice(-300));
    assert.doesNotMatch(a.body, /event: error/);
    assert.equal(w.status, 200);
    const answer = JSON.parse(w.body) as { choices: Array<{ message: { content: string }; finish_reason: string }> };
    assert.match(answer.choices[0]?.message.content ?? "", /^w0 w1 /);
    assert.equal(answer.choices[0]?.finish_reason, "stop");
    assert.equal(await exited, 0);
    assert.equal(upstream.cut(), 0, "no upstream request was cut");
  });

  it("past a short grace period, ends a stream in-band and answers a waiting client 503 in its dialect; the audit survives", async () => {
    const upstream = await startSlowUpstream();
    upstreams.push(upstream);
    const { home, config, key } = setUp(upstream.url);
    const tandem = await spawnServe(home, config, key, { env: { K: "sk-up", TANDEM_SHUTDOWN_GRACE_MS: "400" } });
    children.push(tandem.child);
    const exited = new Promise<number | null>((resolve) => tandem.child.on("exit", (code) => resolve(code)));
    const openai = send(tandem.url, "/v1/chat/completions", chat(30_000, true));
    const anthropic = send(tandem.url, "/v1/messages", messages(30_000, true));
    const wholeOpenAI = send(tandem.url, "/v1/chat/completions", chat(30_000, false));
    const wholeAnthropic = send(tandem.url, "/v1/messages", messages(30_000, false));
    await until("both streams' first words", () => openai.text().includes("w0") && anthropic.text().includes("w0"));
    // The whole answers' requests have reached the upstream too (4 in all) before the signal.
    await new Promise((r) => setTimeout(r, 200));
    const signalled = Date.now();
    tandem.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(await refused(tandem.url), "a request after the signal is refused");

    const [o, a, wo, wa] = await Promise.all([openai.done, anthropic.done, wholeOpenAI.done, wholeAnthropic.done]);
    // OpenAI: the error chunk after the words, and the stream ended (not cut).
    assert.ok(o.ended, `the OpenAI stream was cut: ${o.body.slice(-300)}`);
    const lastOpenAI = o.body.trimEnd().split("\n\n").at(-1) ?? "";
    assert.match(lastOpenAI, /^data: \{"error":/);
    assert.match(lastOpenAI, /shutting down/);
    // Anthropic: `event: error` last, its body Anthropic's error shape.
    assert.ok(a.ended, `the Anthropic stream was cut: ${a.body.slice(-300)}`);
    const lastAnthropic = a.body.trimEnd().split("\n\n").at(-1) ?? "";
    assert.match(
      lastAnthropic,
      /^event: error\ndata: \{"type":"error","error":\{"type":"\w+_error","message":"tandem is shutting down/,
    );
    // The clients waiting for whole answers: a 503 in their dialect, not an empty reply.
    assert.equal(wo.status, 503);
    const openaiError = JSON.parse(wo.body) as { error: { message: string; type: string } };
    assert.match(openaiError.error.message, /shutting down/);
    assert.equal(wa.status, 503);
    const anthropicError = JSON.parse(wa.body) as { type: string; error: { type: string; message: string } };
    assert.equal(anthropicError.type, "error");
    assert.match(anthropicError.error.message, /shutting down/);

    assert.equal(await exited, 0);
    assert.ok(Date.now() - signalled < 5000, "the exit came soon after the grace period");
    // Each upstream request was aborted, not left to run.
    await until("the upstream requests to be closed", () => upstream.cut() === 4);

    // Every body sent to the cloud target has its egress audit row after a restart.
    const again = await spawnServe(home, config, key, { env: { K: "sk-up" } });
    children.push(again.child);
    const audit = (await (await fetch(`${again.url}/v1/audit`)).json()) as { data: Array<{ target: string }> };
    assert.deepEqual(
      audit.data.map((row) => row.target),
      ["oa/slow", "oa/slow", "oa/slow", "oa/slow"],
    );
    again.child.kill("SIGTERM");
  });

  it("ends background responses as the stop begins, stored failed, rather than waiting the grace period for them", async () => {
    const upstream = await startSlowUpstream();
    upstreams.push(upstream);
    const { home, config, key } = setUp(upstream.url);
    const tandem = await spawnServe(home, config, key, { env: { K: "sk-up", TANDEM_SHUTDOWN_GRACE_MS: "30000" } });
    children.push(tandem.child);
    const exited = new Promise<number | null>((resolve) => tandem.child.on("exit", (code) => resolve(code)));
    const conversation = (await (
      await fetch(`${tandem.url}/v1/conversations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items: [{ role: "user", content: "seed" }] }),
      })
    ).json()) as { id: string };
    // One run streamed to its client, one polled; each would take 30 s.
    const streamed = send(tandem.url, "/v1/responses", {
      model: "slowr",
      input: "answer slowly, ms:30000",
      background: true,
      stream: true,
      conversation: conversation.id,
    });
    const polled = (await (
      await fetch(`${tandem.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "slowr", input: "answer slowly, ms:30000", background: true }),
      })
    ).json()) as { id: string; status: string };
    assert.equal(polled.status, "queued");
    await until("the streamed run's first words", () => streamed.text().includes("w1"));
    const signalled = Date.now();
    tandem.child.kill("SIGTERM");

    // The streamed client is told, as for any stream the stop ends: an error event, then response.failed.
    const s = await streamed.done;
    assert.ok(s.ended, `the stream was cut: ${s.body.slice(-300)}`);
    const events = s.body.trimEnd().split("\n\n");
    assert.match(events.at(-2) ?? "", /^event: error\ndata: .*shutting down/);
    assert.match(events.at(-1) ?? "", /^event: response\.failed\n/);
    const id = (JSON.parse((events[0] ?? "").split("data: ")[1] ?? "{}") as { response: { id: string } }).response.id;
    assert.equal(await exited, 0);
    assert.ok(Date.now() - signalled < 5000, `the exit waited ${Date.now() - signalled} ms for the background runs`);
    await until("the upstream requests to be closed", () => upstream.cut() === 2);

    // After a restart both are failed, and the conversation took nothing of its run.
    const again = await spawnServe(home, config, key, { env: { K: "sk-up" } });
    children.push(again.child);
    for (const run of [id, polled.id]) {
      const stored = (await (await fetch(`${again.url}/v1/responses/${run}`)).json()) as {
        status: string;
        error: { code: string; message: string };
      };
      assert.equal(stored.status, "failed", run);
      assert.equal(stored.error.code, "server_error");
      assert.match(stored.error.message, /shutting down|tandem stopped/);
    }
    const items = (await (await fetch(`${again.url}/v1/conversations/${conversation.id}/items`)).json()) as { data: unknown[] };
    assert.equal(items.data.length, 1);
    again.child.kill("SIGTERM");
  });

  it("exits at once on a second signal, the store still readable after", async () => {
    const upstream = await startSlowUpstream();
    upstreams.push(upstream);
    const { home, config, key } = setUp(upstream.url);
    const tandem = await spawnServe(home, config, key, { env: { K: "sk-up", TANDEM_SHUTDOWN_GRACE_MS: "60000" } });
    children.push(tandem.child);
    const exited = new Promise<number | null>((resolve) => tandem.child.on("exit", (code) => resolve(code)));
    const openai = send(tandem.url, "/v1/chat/completions", chat(30_000, true));
    await until("the stream's first words", () => openai.text().includes("w0"));
    tandem.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 200));
    const second = Date.now();
    tandem.child.kill("SIGINT");
    assert.equal(await exited, 0);
    assert.ok(Date.now() - second < 3000, "the second signal stopped it at once");
    await openai.done;

    const again = await spawnServe(home, config, key, { env: { K: "sk-up" } });
    children.push(again.child);
    const audit = (await (await fetch(`${again.url}/v1/audit`)).json()) as { data: Array<{ target: string }> };
    assert.deepEqual(
      audit.data.map((row) => row.target),
      ["oa/slow"],
    );
    again.child.kill("SIGTERM");
  });
});
