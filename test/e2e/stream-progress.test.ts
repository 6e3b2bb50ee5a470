/**
 * What counts as a stream's progress for its time limits: the throughput floor counts tokens of
 * output (an upstream may send hundreds in one event), not events; and a keep-alive is never
 * progress, whatever the wire (an Anthropic `ping` no more than an OpenAI `: keep-alive` comment).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null) =>
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
const pause = (ms: number) => () => sleep(ms);

/** An Anthropic stream: `Alpha`, then pings every 100 ms for `pingMs`, then ` beta` and the end. */
function anthropicPinging(pingMs: number): Array<string | (() => Promise<void>)> {
  const message = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "m",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 1 },
  };
  const writes: Array<string | (() => Promise<void>)> = [
    sse({ type: "message_start", message }, "message_start"),
    sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
    sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Alpha" } }, "content_block_delta"),
  ];
  for (let waited = 0; waited < pingMs; waited += 100) writes.push(pause(100), sse({ type: "ping" }, "ping"));
  writes.push(
    sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " beta" } }, "content_block_delta"),
    sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
    sse(
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
      "message_delta",
    ),
    sse({ type: "message_stop" }, "message_stop"),
  );
  return writes;
}

let first: ScriptedUpstream;
let backup: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  first = await startScriptedUpstream();
  backup = await startFakeOpenAI({ models: ["m"] });
  backup.script(() => ({ kind: "text", text: "Hello from b." }));
  tandem = await startTandem({
    providers: {
      a: { kind: "openai", baseUrl: `${first.url}/v1`, models: ["m"] },
      c: { kind: "anthropic", baseUrl: first.url, models: ["m"] },
      b: { kind: "openai", baseUrl: backup.url, models: ["m"] },
    },
    routes: {
      tp: {
        tiers: ["a/m", "b/m"],
        timeouts: { firstTokenMs: 5000, idleMs: 5000, minTokensPerSecond: 5, throughputWindowMs: 500 },
      },
      ftc: { tiers: ["c/m", "b/m"], timeouts: { firstTokenMs: 5000, idleMs: 500 } },
      ft: { tiers: ["a/m", "b/m"], timeouts: { firstTokenMs: 5000, idleMs: 500 } },
    },
  });
});

after(async () => {
  await tandem.close();
  await first.close();
  await backup.close();
});

beforeEach(() => {
  first.clear();
  backup.requests.length = 0;
});

async function post(path: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "hi" }], ...body }),
  });
  assert.equal(res.status, 200);
  return res.text();
}

const posted = () => backup.requests.filter((r) => r.method === "POST").length;

describe("the throughput floor counts tokens, not events", () => {
  it("keeps a fast stream that comes in large deltas (about 100 tokens every 250 ms over a floor of 5/s)", async () => {
    // Words that do not repeat (a loop would fail the repetition check instead).
    const words = (from: number) => Array.from({ length: 80 }, (_, i) => `word${from + i} `).join("");
    const writes: Array<string | (() => Promise<void>)> = [chunk({ role: "assistant", content: "Start. " })];
    for (let i = 0; i < 6; i++) writes.push(pause(250), chunk({ content: words(i * 80) }));
    writes.push(chunk({}, "stop"), "data: [DONE]\n\n");
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    for (const [path, extra] of [
      ["/v1/chat/completions", {}],
      ["/v1/messages", { max_tokens: 2000 }],
    ] as const) {
      const text = await post(path, { model: "tp", ...extra });
      assert.doesNotMatch(text, /switched/, `${path}: ${text.slice(-300)}`);
      assert.equal(posted(), 0, path);
    }
  });

  it("still abandons a stream that crawls below the floor", async () => {
    const writes: Array<string | (() => Promise<void>)> = [chunk({ role: "assistant", content: "a" })];
    for (let i = 0; i < 6; i++) writes.push(pause(300), chunk({ content: "b" }));
    writes.push(chunk({}, "stop"), "data: [DONE]\n\n");
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const text = await post("/v1/chat/completions", { model: "tp" });
    assert.match(text, /switched from a\/m to b\/m after timeout/);
  });
});

describe("a keep-alive is not progress, on any wire", () => {
  it("an Anthropic upstream that only pings mid-answer is abandoned at the idle limit (Anthropic client, same wire)", async () => {
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: anthropicPinging(1500) }));
    const text = await post("/v1/messages", { model: "ftc", max_tokens: 100 });
    assert.match(text, /switched from c\/m to b\/m after timeout/, text.slice(0, 2000));
    assert.equal(posted(), 1);
  });

  it("an Anthropic upstream that only pings mid-answer is abandoned at the idle limit (chat client)", async () => {
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: anthropicPinging(1500) }));
    const text = await post("/v1/chat/completions", { model: "ftc" });
    assert.match(text, /switched from c\/m to b\/m after timeout/, text.slice(0, 2000));
  });

  it("an OpenAI-compatible upstream that only sends keep-alive comments is abandoned alike", async () => {
    const writes: Array<string | (() => Promise<void>)> = [chunk({ role: "assistant", content: "Alpha" })];
    for (let waited = 0; waited < 1500; waited += 100) writes.push(pause(100), ": keep-alive\n\n");
    writes.push(chunk({ content: " beta" }), chunk({}, "stop"), "data: [DONE]\n\n");
    first.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const text = await post("/v1/chat/completions", { model: "ft" });
    assert.match(text, /switched from a\/m to b\/m after timeout/);
  });
});
