/**
 * The router's attempt loop through a real server and the official SDKs: retries with backoff and
 * Retry-After, failover to the next tier with the answer marked degraded, client errors passed on
 * untouched, circuit breakers that stop calling a failing target, first-token limits, and the
 * exhausted cases (an error listing every attempt, or a degraded notice).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let a: FakeOpenAIUpstream;
let b: FakeOpenAIUpstream;
let tandem: RunningTandem;
let openai: OpenAI;

/** The chat.completion.chunk objects of a raw OpenAI SSE answer, in order. */
interface WireChunk {
  choices: {
    delta: { content?: string; tool_calls?: { id?: string; function?: { arguments?: string } }[] };
    finish_reason: string | null;
  }[];
  usage?: { completion_tokens: number };
}
function sseChunks(raw: string): WireChunk[] {
  return raw
    .split("\n\n")
    .filter((f) => f.startsWith("data: {"))
    .map((f) => JSON.parse(f.slice(6)) as WireChunk);
}
const sseText = (raw: string) =>
  sseChunks(raw)
    .map((c) => c.choices[0]?.delta.content ?? "")
    .join("");

const chatPosts = (fake: FakeOpenAIUpstream) => fake.requests.filter((r) => r.method === "POST").length;
const ask = (model: string) =>
  openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] }).withResponse();

before(async () => {
  [a, b] = await Promise.all([startFakeOpenAI({ models: ["m"] }), startFakeOpenAI({ models: ["m"] })]);
});

after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

// A fresh server per test: breakers remember failures, which is the point, but not across tests.
beforeEach(async () => {
  a.requests.length = 0;
  b.requests.length = 0;
  a.script(() => ({ kind: "text", text: "from a" }));
  b.script(() => ({ kind: "text", text: "from b" }));
  const retry = { attempts: 2, baseMs: 10, maxMs: 300 };
  const timeouts = { connectMs: 1000, firstTokenMs: 300, idleMs: 1000, totalMs: 5000 };
  tandem = await startTandem({
    providers: {
      a: { kind: "openai", baseUrl: a.url, models: ["m"] },
      b: { kind: "openai", baseUrl: b.url, models: ["m"] },
      breaky: { kind: "openai", baseUrl: a.url, models: { m2: { id: "m" } } },
    },
    routes: {
      auto: { tiers: ["a/m", "b/m"], retry, timeouts },
      notice: { tiers: ["a/m", "b/m"], retry, timeouts, onExhausted: "notice" },
      breaker: { tiers: ["breaky/m2", "b/m"], retry, timeouts },
      solo: { tiers: ["a/m"], retry, timeouts },
    },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterEach(async () => {
  await tandem?.close();
});

describe("router failover", () => {
  it("retries a failing first tier, then answers from the second, marked degraded", async () => {
    a.script(() => ({ kind: "error", status: 500, message: "a is down" }));
    const { data, response } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, "from b");
    assert.equal(chatPosts(a), 2, "the first tier is tried twice (route retry.attempts)");
    assert.equal(response.headers.get("x-tandem-route"), "auto");
    assert.equal(response.headers.get("x-tandem-target"), "b/m");
    assert.equal(response.headers.get("x-tandem-attempts"), "3");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /^true; tier 2 answered; a\/m: upstream_error/);
  });

  it("fails over a streamed Anthropic request before its first event, so the client sees one clean stream", async () => {
    a.script(() => ({ kind: "error", status: 503, message: "overloaded" }));
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const { data: stream, response } = await anthropic.messages
      .create({ model: "auto", max_tokens: 50, messages: [{ role: "user", content: "Hi" }], stream: true })
      .withResponse();
    let text = "";
    for await (const event of stream)
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    assert.equal(text, "from b");
    assert.equal(response.headers.get("x-tandem-target"), "b/m");
  });

  it("honours a short Retry-After on the same target instead of failing over", async () => {
    let calls = 0;
    a.script(() =>
      ++calls === 1
        ? { kind: "error", status: 429, message: "slow down", headers: { "retry-after-ms": "120" } }
        : { kind: "text", text: "from a" },
    );
    const started = Date.now();
    const { data, response } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, "from a");
    assert.ok(Date.now() - started >= 120, "waited for Retry-After");
    assert.equal(response.headers.get("x-tandem-attempts"), "2");
    assert.equal(response.headers.get("x-tandem-degraded"), "false");
    assert.equal(chatPosts(b), 0);
  });

  it("says why it failed over even when the first tier's error has what a header cannot carry (streamed and not)", async () => {
    // An em dash, CJK, and a message long enough to be cut with an ellipsis: none is Latin-1.
    a.script(() => ({ kind: "error", status: 503, message: `Service unavailable — 服务不可用 ${"x".repeat(600)}` }));
    const { data, response } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, "from b");
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /^true; tier 2 answered; a\/m: \w+ after \d+ ms \(Service unavailable \? \?+ x+\?\)/,
    );
    const streamed = await openai.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true })
      .withResponse();
    let text = "";
    for await (const chunk of streamed.data) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "from b");
    assert.match(streamed.response.headers.get("x-tandem-degraded") ?? "", /^true; tier 2 answered; a\/m: \w+ after/);
  });

  it("passes a request error (400) on as it is, without trying other targets", async () => {
    a.script(() => ({ kind: "error", status: 400, message: "Invalid 'messages[0].content': too long" }));
    await assert.rejects(ask("auto"), (err: unknown) => err instanceof OpenAI.BadRequestError && /too long/.test(err.message));
    assert.equal(chatPosts(a), 1);
    assert.equal(chatPosts(b), 0);
    // The error answer says where it came from, as an answer does.
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("x-tandem-route"), "auto");
    assert.equal(res.headers.get("x-tandem-target"), "a/m");
    assert.equal(res.headers.get("x-tandem-attempts"), "1");
  });

  it("moves on at once, without retrying, when the conversation does not fit the first target", async () => {
    a.script(() => ({
      kind: "error",
      status: 400,
      body: {
        error: {
          message: "This model's maximum context length is 8192 tokens",
          type: "invalid_request_error",
          param: "messages",
          code: "context_length_exceeded",
        },
      },
    }));
    const { data } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, "from b");
    assert.equal(chatPosts(a), 1);
  });

  it("gives up on a target that sends no first token within the route's limit and fails over", async () => {
    a.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const started = Date.now();
    const { data, response } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, "from b");
    // a hangs for good: only its first-token limit (twice, one per attempt) can have moved the request on.
    const degraded = response.headers.get("x-tandem-degraded") ?? "";
    assert.equal(degraded.match(/a\/m: timeout after \d+ ms \(a\/m: no first token within 300 ms\)/g)?.length, 2, degraded);
    const took = Date.now() - started;
    assert.ok(took >= 600, `two 300 ms first-token limits, then b: took ${took} ms`);
  });

  it("answers 503 listing every attempt when every tier fails", async () => {
    a.script(() => ({ kind: "error", status: 500, message: "a is down" }));
    b.script(() => ({ kind: "error", status: 502, message: "b is down" }));
    await assert.rejects(ask("auto"), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 503);
      assert.match(err.message, /No answer for 'auto': every target failed/);
      assert.match(err.message, /a\/m: upstream_error after \d+ ms \(.*a is down/);
      assert.match(err.message, /b\/m: upstream_error after \d+ ms \(.*b is down/);
      assert.equal(err.headers?.get("x-tandem-route"), "auto");
      assert.equal(err.headers?.get("x-tandem-target"), "b/m");
      assert.equal(err.headers?.get("x-tandem-attempts"), "4");
      return true;
    });
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_requests_total\{[^}]*route="auto"[^}]*status="503"[^}]*\} 1/);
  });

  it("answers with a degraded notice when the route says onExhausted: notice", async () => {
    a.script(() => ({ kind: "error", status: 500, message: "a is down" }));
    b.script(() => ({ kind: "error", status: 500, message: "b is down" }));
    const { data, response } = await ask("notice");
    assert.match(data.choices[0]?.message.content ?? "", /AI service is degraded/);
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.equal(response.headers.get("x-tandem-target"), "tandem/notice");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /^true; every tier failed/);
  });

  it("opens a failing target's breaker, then stops calling it, and shows that in status and metrics", async () => {
    a.script(() => ({ kind: "error", status: 500, message: "a is down" }));
    // Two failed attempts per request: the third request reaches five consecutive failures.
    for (let i = 0; i < 3; i++) await ask("breaker");
    const before = chatPosts(a);
    assert.equal(before, 5, "the breaker opened at the fifth failure, so the sixth attempt was not made");
    const { data, response } = await ask("breaker");
    assert.equal(data.choices[0]?.message.content, "from b");
    assert.equal(chatPosts(a), before, "an open breaker does not call the target");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /breaky\/m2: breaker_open/);
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      targets: { target: string; breaker: string; health: string }[];
    };
    const breaky = status.targets.find((t) => t.target === "breaky/m2");
    assert.equal(breaky?.breaker, "open");
    assert.equal(breaky?.health, "unhealthy");
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_breaker_state\{target="breaky\/m2"\} 2/);
    assert.match(metrics, /tandem_breaker_transitions_total\{target="breaky\/m2",from="closed",to="open"\} 1/);
    // Requests 1 and 2 each sent a retry; request 3's retry found the breaker open (its first try was
    // the fifth failure) and was never sent, and the fourth request did not try the target at all.
    assert.match(metrics, /tandem_retries_total\{target="breaky\/m2"\} 2\n/);
    assert.match(metrics, /tandem_attempts_total\{target="breaky\/m2",outcome="upstream_error"\} 5\n/);
  });

  it("keeps a lone target's own error for the client: a long Retry-After 429 stays a 429", async () => {
    a.script(() => ({ kind: "error", status: 429, message: "quota", headers: { "retry-after": "30" } }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "a/m", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "30");
    assert.equal(chatPosts(a), 1, "a Retry-After longer than the route's maxMs is not waited for");
  });

  it("answers a route's lone target that never answered with the 504 that lists its attempts, as when every tier failed", async () => {
    a.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "solo", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 504);
    const { error } = (await res.json()) as { error: { message: string } };
    assert.match(
      error.message,
      /^No answer for 'solo': every target failed\. Attempts: a\/m: timeout after \d+ ms \(.*; a\/m: timeout after/,
    );
    assert.equal(chatPosts(a), 2, "retried as the route says before giving up");
  });

  it("tells the client when to come back when every target said when (the soonest of them)", async () => {
    a.script(() => ({ kind: "error", status: 429, message: "quota", headers: { "retry-after": "30" } }));
    b.script(() => ({ kind: "error", status: 503, message: "busy", headers: { "retry-after": "12" } }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "12");
    assert.equal(res.headers.get("retry-after-ms"), "12000");
  });

  it("says no Retry-After when a target failed without saying when", async () => {
    a.script(() => ({ kind: "error", status: 429, message: "quota", headers: { "retry-after": "30" } }));
    b.script(() => ({ kind: "error", status: 500, message: "b is down" }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), null);
  });

  it("tells the client when the first breaker lets a trial through, when every target's breaker is open", async () => {
    a.script(() => ({ kind: "error", status: 500, message: "a is down" }));
    b.script(() => ({ kind: "error", status: 500, message: "b is down" }));
    // Two attempts per target per request: the third request opens both breakers (five failures each).
    for (let i = 0; i < 3; i++) await ask("auto").catch(() => undefined);
    const posts = chatPosts(a) + chatPosts(b);
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(chatPosts(a) + chatPosts(b), posts, "both breakers are open: nothing was called");
    assert.equal(res.status, 503);
    const seconds = Number(res.headers.get("retry-after"));
    // The breakers' default cooldown is 30 s, and they opened moments ago.
    assert.ok(seconds > 20 && seconds <= 30, `Retry-After ${res.headers.get("retry-after")}`);
  });
});

describe("mid-stream failover", () => {
  const broken = () => ({ kind: "broken_stream" as const, chunks: ["The quick ", "brown "] });

  it("continues a broken OpenAI stream on the next tier, in one well-formed stream marked in-band", async () => {
    a.script(broken);
    b.script(() => ({ kind: "text", text: "fox jumps.", usage: { input: 40, output: 3 } }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "auto",
        messages: [{ role: "user", content: "Tell me" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    assert.equal(res.headers.get("x-tandem-target"), "a/m", "the header names the first target of a stream");
    const raw = await res.text();
    assert.match(raw, /^: tandem switched from a\/m to b\/m after upstream_error; the answer continues$/m);
    assert.match(raw, /data: \[DONE\]\n\n$/);
    const chunks = sseChunks(raw);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "The quick brown fox jumps.");
    assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
    // The broken part's tokens are counted from its text (router/tokens-given.ts): "The quick brown " is
    // four by the tokenizer (the last a space), more than its two deltas.
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 3 + 4, "the continuation's tokens plus the broken part's");
    const sent = b.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    assert.deepEqual(
      sent.messages.slice(-2).map((m) => m.role),
      ["assistant", "user"],
    );
    assert.match(JSON.stringify(sent.messages.at(-2)?.content), /The quick brown /);
    assert.match(JSON.stringify(sent.messages.at(-1)?.content), /Continue it exactly where it stopped/);
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_mid_stream_switches_total\{route="auto",code="upstream_error"\} 1\n/);
    assert.match(metrics, /tandem_degraded_answers_total\{route="auto",reason="mid_stream_switch"\} 1\n/);
    assert.doesNotMatch(metrics, /tandem_failovers_total\{/, "a streamed continuation is no failover");
  });

  it("opens the breaker of a target whose every stream breaks mid-answer (its start is no success), and a lone one's too", async () => {
    a.script(broken);
    const streamed = async (model: string) => {
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Tell me" }], stream: true }),
      });
      return res.text();
    };
    // A broken stream goes on on b/m and is not retried on breaky/m2: one failure per request.
    for (let i = 0; i < 5; i++) assert.match(await streamed("breaker"), /tandem switched from breaky\/m2 to b\/m/);
    assert.equal(chatPosts(a), 5);
    const raw = await streamed("breaker");
    assert.doesNotMatch(raw, /switched/, "the open breaker skipped breaky/m2: b/m answered from the start");
    assert.equal(chatPosts(a), 5, "an open breaker does not call the target");
    // A client that did not stream, on the lone target: 502 each time, five in a row, then the circuit is open.
    const statusOf = (model: string) =>
      ask(model).then(
        () => 200,
        (e: InstanceType<typeof OpenAI.APIError>) => e.status,
      );
    for (let i = 0; i < 5; i++) assert.equal(await statusOf("a/m"), 502);
    assert.equal(await statusOf("a/m"), 503);
    assert.equal(chatPosts(a), 10);
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as { targets: { target: string; breaker: string }[] };
    assert.equal(status.targets.find((t) => t.target === "breaky/m2")?.breaker, "open");
    assert.equal(status.targets.find((t) => t.target === "a/m")?.breaker, "open");
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_breaker_transitions_total\{target="breaky\/m2",from="closed",to="open"\} 1/);
    assert.match(metrics, /tandem_attempts_total\{target="breaky\/m2",outcome="upstream_error"\} 5\n/);
  });

  it("continues a broken answer for the Anthropic and Ollama clients", async () => {
    a.script(broken);
    b.script(() => ({ kind: "text", text: "fox jumps." }));
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const message = await anthropic.messages
      .stream({ model: "auto", max_tokens: 50, messages: [{ role: "user", content: "Tell me" }] })
      .finalMessage();
    assert.equal(message.content.map((c) => (c.type === "text" ? c.text : "")).join(""), "The quick brown fox jumps.");
    assert.equal(message.stop_reason, "end_turn");

    const ollama = new Ollama({ host: tandem.url });
    let text = "";
    let last: Record<string, unknown> = {};
    for await (const part of await ollama.chat({
      model: "auto",
      messages: [{ role: "user", content: "Tell me" }],
      stream: true,
    })) {
      text += part.message.content;
      last = part as unknown as Record<string, unknown>;
    }
    assert.equal(text, "The quick brown fox jumps.");
    assert.match(String(last.tandem_degraded), /switched mid-stream from a\/m to b\/m/);
  });

  it("names the target that wrote the answer when the first one broke after reasoning an Anthropic client is not shown", async () => {
    // a gives its role chunk and reasoning only (the client did not turn thinking on), then drops the connection.
    const chunk = (delta: Record<string, unknown>) =>
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    a.script(() => ({
      kind: "raw",
      body: [
        chunk({ role: "assistant", content: "" }),
        chunk({ reasoning_content: "Let me think" }),
        chunk({ reasoning_content: " more." }),
      ],
      end: "destroy",
    }));
    b.script(() => ({ kind: "text", text: "The answer." }));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "auto", max_tokens: 50, stream: true, messages: [{ role: "user", content: "Tell me" }] }),
    });
    assert.equal(res.headers.get("x-tandem-target"), "b/m", "nothing the client saw came from a");
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /^true; tier 2 answered; a\/m: upstream_error/);
    const raw = await res.text();
    assert.doesNotMatch(raw, /tandem switched/, "no seam: the answer is b's alone");
    assert.match(raw, /"model":"b\/m"/);
    const text = [...raw.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]).join("");
    assert.equal(text, "The answer.");
  });

  it("counts a request whose client left before the first token under its route", async () => {
    a.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const client = new AbortController();
    setTimeout(() => client.abort(), 100);
    await assert.rejects(
      fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
        signal: client.signal,
      }),
    );
    // The server counts the request once it has seen the client go.
    let metrics = "";
    for (let i = 0; i < 50 && !/status="499"/.test(metrics); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    }
    assert.match(metrics, /tandem_requests_total\{dialect="openai",route="auto",target="[^"]*",status="499"\} 1/);
  });

  it("answers a client that did not stream afresh from the next tier, never a stitched answer", async () => {
    a.script(broken);
    b.script(() => ({ kind: "text", text: "A whole answer from b." }));
    const { data, response } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, "A whole answer from b.");
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /^true; answered afresh on b\/m after a\/m failed \(upstream_error\)/,
    );
    const sent = b.requests.at(-1)?.body as { messages: { role: string }[] };
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ["user"],
      "the next target gets the original conversation, not the broken part",
    );
    // A failover to the next tier, as one before the first byte is: not a mid-stream switch.
    const metrics = await (await fetch(`${tandem.url}/metrics`)).text();
    assert.match(metrics, /tandem_failovers_total\{route="auto",code="upstream_error"\} 1\n/);
    assert.match(metrics, /tandem_degraded_answers_total\{route="auto",reason="lower_tier"\} 1\n/);
    assert.doesNotMatch(metrics, /reason="mid_stream_switch"/);
    assert.doesNotMatch(metrics, /tandem_mid_stream_switches_total\{/);
  });

  it("a client that did not stream, when every target breaks off mid-answer: the 503 listing every attempt, in each dialect", async () => {
    a.script(broken);
    b.script(broken);
    const attempts =
      /No answer for 'auto': every target failed\. Attempts: a\/m: upstream_error after \d+ ms \(.*\); b\/m: upstream_error after/;
    const fromOpenAI = await ask("auto").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(fromOpenAI instanceof OpenAI.APIError, String(fromOpenAI));
    assert.equal(fromOpenAI.status, 503, fromOpenAI.message);
    assert.match(fromOpenAI.message, attempts);

    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const fromAnthropic = await anthropic.messages
      .create({ model: "auto", max_tokens: 50, messages: [{ role: "user", content: "Tell me" }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(fromAnthropic instanceof Anthropic.APIError, String(fromAnthropic));
    assert.equal(fromAnthropic.status, 503, fromAnthropic.message);
    assert.match(fromAnthropic.message, attempts);

    const fromOllama = (await new Ollama({ host: tandem.url })
      .chat({ model: "auto", messages: [{ role: "user", content: "Tell me" }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { status_code?: number; message?: string } | undefined;
    assert.equal(fromOllama?.status_code, 503, String(fromOllama));
    assert.match(String(fromOllama?.message), attempts);
  });

  it("a client that did not stream, when every target stalls mid-answer: the 504 listing both", async () => {
    const stall = () => ({ kind: "stall" as const, chunks: ["The quick "] });
    a.script(stall);
    b.script(stall);
    const err = await ask("auto").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 504, err.message);
    assert.match(err.message, /every target failed\. Attempts: a\/m: timeout after \d+ ms \(.*\); b\/m: timeout after/);
  });

  it("a target that failed before the answer started is listed too, when the one that started breaks off", async () => {
    a.script(() => ({ kind: "error", status: 500 }));
    b.script(broken);
    const err = await ask("auto").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 503, err.message);
    assert.match(
      err.message,
      /Attempts: a\/m: upstream_error .*; a\/m: upstream_error .*; b\/m: upstream_error after \d+ ms \(.*broke/,
    );
  });

  it("a streaming client's error event, when no target is left to go on, lists every attempt too", async () => {
    a.script(broken);
    b.script(broken);
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Tell me" }], stream: true }),
    });
    const raw = await res.text();
    assert.match(raw, /^: tandem switched from a\/m to b\/m/m);
    assert.match(
      raw,
      /"message":"No answer for 'auto': every target failed\. Attempts: a\/m: upstream_error .*; b\/m: upstream_error/,
    );
  });

  it("holds back a tool call until its arguments are complete, so a call that breaks half-way is redone on the next tier", async () => {
    const frame = (delta: object) =>
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    a.script(() => ({
      kind: "raw",
      body: [
        frame({ role: "assistant", content: null }),
        frame({
          tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"ci' } }],
        }),
      ],
      end: "destroy",
    }));
    b.script(() => ({ kind: "tool_calls", calls: [{ id: "call_b", name: "get_weather", arguments: { city: "Paris" } }] }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Weather?" }], stream: true }),
    });
    const raw = await res.text();
    assert.doesNotMatch(raw, /call_1/, "the broken call never reached the client");
    // Nothing of a's answer had been given (its role chunk was held with the call): b answers as the first.
    assert.equal(res.headers.get("x-tandem-target"), "b/m");
    assert.doesNotMatch(raw, /tandem switched/);
    assert.match(raw, /data: \[DONE\]\n\n$/);
    const calls = sseChunks(raw).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    assert.equal(calls[0]?.id, "call_b");
    assert.deepEqual(JSON.parse(calls.map((c) => c.function?.arguments ?? "").join("")), { city: "Paris" });
  });
});

describe("active health checks", () => {
  it("skips a target whose provider failed its health probe, before paying for it, and shows why", async () => {
    const probed = await startTandem({
      health: { probeIntervalMs: 60_000, probeTimeoutMs: 1000 },
      providers: {
        // Nothing listens on port 9: the probe (the model list) fails at once.
        down: { kind: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["m"] },
        b: { kind: "openai", baseUrl: b.url, models: ["m"] },
      },
      routes: { auto: { tiers: ["down/m", "b/m"] }, lonely: { tiers: ["down/m"] } },
    });
    try {
      await probed.server.health.probeAll();
      const client = new OpenAI({ baseURL: `${probed.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const { data, response } = await client.chat.completions
        .create({ model: "auto", messages: [{ role: "user", content: "Hi" }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, "from b");
      assert.equal(response.headers.get("x-tandem-attempts"), "1", "the unhealthy target was not attempted");
      assert.match(response.headers.get("x-tandem-degraded") ?? "", /down\/m: unhealthy .*health probe failed/);
      const status = (await (await fetch(`${probed.url}/v1/status`)).json()) as {
        providers: { name: string; probe: { healthy: boolean; error?: { code: string } } | null }[];
        targets: { target: string; health: string }[];
      };
      const down = status.providers.find((p) => p.name === "down");
      assert.equal(down?.probe?.healthy, false);
      assert.equal(down?.probe?.error?.code, "unavailable");
      assert.equal(status.targets.find((t) => t.target === "down/m")?.health, "unhealthy");
      assert.equal(status.providers.find((p) => p.name === "b")?.probe?.healthy, true);
      // When every target is unhealthy, tandem still tries rather than refuse outright.
      const res = await fetch(`${probed.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "lonely", messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /ECONNREFUSED/);
    } finally {
      await probed.close();
    }
  });
});

describe("throughput floor", () => {
  it("abandons a stream that crawls below the route's floor and finishes the answer on the next tier", async () => {
    // An OpenAI-format upstream that is alive but sends one word every 100 ms, forever.
    const crawler = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      const frame = (content: string) =>
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
      res.write(frame("slow "));
      const timer = setInterval(() => res.write(frame("slow ")), 100);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => crawler.listen(0, "127.0.0.1", resolve));
    const crawlerUrl = `http://127.0.0.1:${(crawler.address() as AddressInfo).port}/v1`;
    const floored = await startTandem({
      providers: {
        crawl: { kind: "openai", baseUrl: crawlerUrl, models: ["m"] },
        b: { kind: "openai", baseUrl: b.url, models: ["m"] },
      },
      routes: {
        auto: {
          tiers: ["crawl/m", "b/m"],
          retry: { attempts: 1, baseMs: 10, maxMs: 100 },
          timeouts: { firstTokenMs: 1000, idleMs: 1000, totalMs: 5000, minTokensPerSecond: 30, throughputWindowMs: 400 },
        },
      },
    });
    try {
      b.script(() => ({ kind: "text", text: "done fast." }));
      const started = Date.now();
      const res = await fetch(`${floored.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true }),
      });
      const raw = await res.text();
      const took = Date.now() - started;
      assert.match(raw, /^: tandem switched from crawl\/m to b\/m after timeout/m);
      const text = sseText(raw);
      assert.match(text, /^(slow )+done fast\.$/);
      // The crawl would go on for its whole answer: the switch above is the floor's doing, after a full window.
      assert.ok(took >= 400, `abandoned after one 400 ms window: took ${took} ms`);
      const sent = b.requests.at(-1)?.body as { messages: { content: unknown }[] };
      assert.match(JSON.stringify(sent.messages.at(-2)?.content), /slow/);
    } finally {
      await floored.close();
      crawler.closeAllConnections();
      await new Promise((r) => crawler.close(r));
    }
  });
});

describe("quality checks", () => {
  const frame = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const metrics = async () => (await fetch(`${tandem.url}/metrics`)).text();

  it("treats an empty answer as a failure and answers from the next tier", async () => {
    a.script(() => ({ kind: "text", text: "", chunks: [] }));
    const stream = await openai.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "from b");
    assert.match(await metrics(), /tandem_quality_failures_total\{target="a\/m",check="empty_output"\} \d/);
  });

  it("fails an empty first answer over as before the first byte: the next tier answers as if first, no seam", async () => {
    a.script(() => ({ kind: "text", text: "", chunks: [] }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-target"), "b/m");
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /^true; tier 2 answered; a\/m: upstream_error after \d+ ms/);
    const raw = await res.text();
    assert.doesNotMatch(raw, /tandem switched/, "no answer had begun: nothing continues");
    assert.equal(sseText(raw), "from b");
  });

  it("when an empty first answer's fallback fails too, a streaming client gets the 503, not a 200 with an error in it", async () => {
    a.script(() => ({ kind: "text", text: "", chunks: [] }));
    b.script(() => ({ kind: "error", status: 503, message: "b is down" }));
    const openaiRes = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    assert.equal(openaiRes.status, 503);
    const body = (await openaiRes.json()) as { error: { message: string } };
    assert.match(body.error.message, /every target failed\. Attempts: a\/m: upstream_error .*; b\/m: /);
    // Every attempt is counted, the one whose answer failed its check too.
    assert.equal(openaiRes.headers.get("x-tandem-attempts"), String(chatPosts(a) + chatPosts(b)));
    const anthropicRes = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", max_tokens: 20, messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    assert.equal(anthropicRes.status, 503);
    assert.equal(((await anthropicRes.json()) as { error: { type: string } }).error.type, "overloaded_error");
  });

  it("cuts off a degenerate repetition loop and continues on the next tier", async () => {
    a.script(() => ({ kind: "text", text: "", chunks: ["Sure. ", ...Array.from({ length: 60 }, () => "I am sorry. ")] }));
    b.script(() => ({ kind: "text", text: "Here is a real answer." }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    const raw = await res.text();
    assert.match(raw, /^: tandem switched from a\/m to b\/m after upstream_error/m);
    const text = sseText(raw);
    assert.ok(text.endsWith("Here is a real answer."), text);
    assert.ok((text.match(/I am sorry/g) ?? []).length < 60, "the loop was cut off before its end");
    assert.match(await metrics(), /tandem_quality_failures_total\{target="a\/m",check="repetition"\} 1/);
  });

  it("does not mistake layout (rules, separators) for a loop", async () => {
    const rule = "=".repeat(300);
    a.script(() => ({ kind: "text", text: `Title\n${rule}\nBody`, chunks: ["Title\n", ...rule.match(/.{1,10}/g)!, "\nBody"] }));
    const { data, response } = await ask("auto");
    assert.equal(data.choices[0]?.message.content, `Title\n${rule}\nBody`);
    assert.equal(response.headers.get("x-tandem-target"), "a/m");
    assert.equal(response.headers.get("x-tandem-degraded"), "false");
  });

  it("checks a JSON-schema answer before a non-streaming client gets it", async () => {
    a.script(() => ({ kind: "text", text: '{"city": 42}' }));
    b.script(() => ({ kind: "text", text: '{"city": "Paris"}' }));
    const { data, response } = await openai.chat.completions
      .create({
        model: "auto",
        messages: [{ role: "user", content: "City?" }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "c", schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
        },
      })
      .withResponse();
    assert.deepEqual(JSON.parse(data.choices[0]?.message.content ?? ""), { city: "Paris" });
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /answered afresh on b\/m/);
    assert.match(await metrics(), /tandem_quality_failures_total\{target="a\/m",check="json_schema"\} 1/);
  });

  it("never passes on a tool call whose arguments are not a JSON object", async () => {
    a.script(() => ({
      kind: "raw",
      body: [
        frame({ role: "assistant", content: null }),
        frame({
          tool_calls: [
            { index: 0, id: "call_bad", type: "function", function: { name: "get_weather", arguments: "{city: Paris" } },
          ],
        }),
        frame({}, "tool_calls"),
        "data: [DONE]\n\n",
      ],
    }));
    b.script(() => ({ kind: "tool_calls", calls: [{ id: "call_good", name: "get_weather", arguments: { city: "Paris" } }] }));
    const { data } = await openai.chat.completions
      .create({
        model: "auto",
        messages: [{ role: "user", content: "Weather?" }],
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      })
      .withResponse();
    const call = data.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.id, "call_good");
    assert.equal(call?.type === "function" && call.function.arguments, '{"city":"Paris"}');
    assert.match(await metrics(), /tandem_quality_failures_total\{target="a\/m",check="tool_arguments"\} 1/);
  });

  it("passes on a tool call cut off by the client's token limit, as truncated (finish length), not as a failure", async () => {
    const cut = () => ({
      kind: "raw" as const,
      body: [
        frame({ role: "assistant", content: null }),
        frame({
          tool_calls: [{ index: 0, id: "call_cut", type: "function", function: { name: "get_weather", arguments: '{"ci' } }],
        }),
        frame({}, "length"),
        "data: [DONE]\n\n",
      ],
    });
    a.script(cut);
    b.script(() => ({ kind: "tool_calls", calls: [{ id: "call_b", name: "get_weather", arguments: { city: "Paris" } }] }));
    const request = {
      model: "auto",
      max_tokens: 5,
      messages: [{ role: "user" as const, content: "Weather?" }],
      tools: [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }],
    };
    const whole = await openai.chat.completions.create(request);
    assert.equal(whole.choices[0]?.finish_reason, "length");
    const call = whole.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.id, "call_cut");
    assert.equal(call?.type === "function" && call.function.arguments, '{"ci');
    const chunks = [];
    for await (const chunk of await openai.chat.completions.create({ ...request, stream: true })) chunks.push(chunk);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "length");
    assert.equal(
      chunks
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .map((c) => c.function?.arguments ?? "")
        .join(""),
      '{"ci',
    );
    assert.equal(b.requests.length, 0, "not retried elsewhere");
    // The same broken call with any other finish is still a failure: it goes on elsewhere.
    a.script(() => ({ ...cut(), body: cut().body.map((line) => line.replace('"length"', '"tool_calls"')) }));
    const retried = await openai.chat.completions.create(request);
    assert.equal(retried.choices[0]?.message.tool_calls?.[0]?.id, "call_b");
  });
});
describe("per-request overrides", () => {
  it("x-tandem-route picks the route whatever the model says; an unknown one is a 404 naming the header", async () => {
    a.script(() => ({ kind: "error", status: 500, message: "a is down" }));
    const post = (headers: Record<string, string>) =>
      fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] }),
      });
    const res = await post({ "x-tandem-route": "auto" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-route"), "auto");
    assert.equal(res.headers.get("x-tandem-target"), "b/m");
    const missing = await post({ "x-tandem-route": "nope" });
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /x-tandem-route/);
    const bad = await post({ "x-tandem-route": "auto", "x-tandem-prefer": "quickest" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /x-tandem-prefer/);
  });

  it("x-tandem-deadline-ms bounds the whole request: a hung upstream is given up on in time with a 504", async () => {
    a.script(() => ({ kind: "raw", body: [], end: "hang" }));
    b.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const started = Date.now();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tandem-deadline-ms": "250" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    const took = Date.now() - started;
    assert.equal(res.status, 504);
    // Both upstreams hang for good and their own limits are far longer: the 504 is the header's deadline.
    assert.ok(took >= 250, `took ${took} ms`);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /deadline passed/);
  });

  it("x-tandem-deadline-ms holds across a mid-stream switch: going on elsewhere gets what is left of it, not a new one", async () => {
    // Each answer starts, then stalls for longer than the deadline (their idle limit is 1 s).
    a.script(() => ({ kind: "stall", chunks: ["The quick "] }));
    b.script(() => ({ kind: "stall", chunks: ["brown "] }));
    for (const stream of [false, true]) {
      b.requests.length = 0;
      const started = Date.now();
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tandem-deadline-ms": "400" },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }], stream }),
      });
      const body = await res.text();
      const took = Date.now() - started;
      // a used the whole deadline: no time is left for b, which is never asked (before, it got 400 ms of its own).
      assert.equal(chatPosts(b), 0, `stream: ${stream}`);
      assert.match(body, /deadline passed/);
      assert.ok(took < 800, `took ${took} ms`);
      if (stream) {
        assert.equal(res.status, 200);
        // The answer so far, then the error chunk.
        assert.match(body, /"content":"The quick "/);
        assert.doesNotMatch(body, /brown/);
      } else assert.equal(res.status, 504);
    }
  });
});

describe("context fitting", () => {
  it("fits a long conversation into a small-window target and says so", async () => {
    const fitting = await startTandem({
      providers: { small: { kind: "openai", baseUrl: a.url, models: { m: { contextWindow: 300 } } } },
      routes: { auto: { tiers: ["small/m"] } },
    });
    try {
      const client = new OpenAI({ baseURL: `${fitting.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const { response } = await client.chat.completions
        .create({
          model: "auto",
          max_tokens: 50,
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "old ".repeat(600) },
            { role: "assistant", content: "ok" },
            { role: "user", content: "The question that matters" },
          ],
        })
        .withResponse();
      assert.match(
        response.headers.get("x-tandem-degraded") ?? "",
        /conversation fitted to small\/m's 300-token window: 2 older message\(s\) left out/,
      );
      const sent = a.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
      // The long old question is left out, and so is the answer to it: a history opens with a user turn.
      assert.deepEqual(
        sent.messages.map((m) => m.role),
        ["system", "user"],
      );
      assert.match(JSON.stringify(sent.messages[1]?.content), /The question that matters/);
    } finally {
      await fitting.close();
    }
  });
});

describe("hedging", () => {
  let hedged: RunningTandem;
  let client: OpenAI;

  beforeEach(async () => {
    hedged = await startTandem({
      providers: {
        a: { kind: "openai", baseUrl: a.url, models: ["m"] },
        b: { kind: "openai", baseUrl: b.url, models: ["m"] },
      },
      routes: {
        auto: { tiers: ["a/m", "b/m"], hedge: { afterMs: 150 }, timeouts: { firstTokenMs: 5000, idleMs: 5000, totalMs: 10_000 } },
      },
    });
    client = new OpenAI({ baseURL: `${hedged.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });

  afterEach(async () => {
    await hedged?.close();
  });

  it("starts the next target when the first is slow to its first token, and the first to answer wins", async () => {
    a.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const started = Date.now();
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    const took = Date.now() - started;
    assert.equal(data.choices[0]?.message.content, "from b");
    assert.equal(response.headers.get("x-tandem-target"), "b/m");
    assert.equal(response.headers.get("x-tandem-attempts"), "2");
    assert.ok(took >= 150, `answered after the hedge delay: ${took} ms`);
    // b was started by the hedge, not by a's 5 s first-token limit passing, and the header says so
    // (no failure came before it: the reason is the hedge, never an empty one).
    assert.equal(
      response.headers.get("x-tandem-degraded"),
      "true; tier 2 answered; a/m: hedged after 150 ms (no first token yet)",
    );
    assert.match(await (await fetch(`${hedged.url}/metrics`)).text(), /tandem_hedges_total\{route="auto",target="b\/m"\} 1/);
  });

  it("does not hedge when the first target answers in time", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "from a");
    assert.equal(response.headers.get("x-tandem-attempts"), "1");
    assert.equal(chatPosts(b), 0);
  });

  it("when both hedged targets fail, reports both attempts", async () => {
    a.script(() => ({ kind: "raw", body: [], end: "hang" }));
    b.script(() => ({ kind: "error", status: 500, message: "b is down" }));
    const res = await fetch(`${hedged.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tandem-deadline-ms": "1500" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.ok(res.status === 503 || res.status === 504, String(res.status));
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    assert.match(message, /b\/m: upstream_error/);
    assert.match(message, /a\/m: timeout/);
  });
});

describe("an upstream that goes down and comes back", () => {
  it("opens the breaker while it is down, then a half-open trial closes it again once it is back", async () => {
    // An OpenAI-format upstream on a fixed port that can be switched off (connections refused) and on.
    let port = 0;
    const serve = () =>
      new Promise<import("node:http").Server>((resolve) => {
        const server = createServer((req, res) => {
          req.resume();
          if (req.url?.endsWith("/models")) return res.end(JSON.stringify({ object: "list", data: [] }));
          res.writeHead(200, { "content-type": "text/event-stream" });
          const chunk = {
            id: "c",
            object: "chat.completion.chunk",
            created: 0,
            model: "m",
            choices: [{ index: 0, delta: { content: "back" }, finish_reason: "stop" }],
          };
          res.end(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
        });
        server.listen(port, "127.0.0.1", () => {
          port = (server.address() as AddressInfo).port;
          resolve(server);
        });
      });
    let flappy = await serve();
    const down = () => new Promise<void>((r) => flappy.close(() => r()));
    const cycling = await startTandem({
      // A cooldown long enough that the calls while it is open never outlast it on a loaded machine.
      breaker: { failureThreshold: 2, cooldownMs: 1500 },
      providers: {
        flappy: { kind: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, models: ["m"] },
        b: { kind: "openai", baseUrl: b.url, models: ["m"] },
      },
      routes: { auto: { tiers: ["flappy/m", "b/m"], retry: { attempts: 1 } } },
    });
    const breakerOf = async () =>
      (
        (await (await fetch(`${cycling.url}/v1/status`)).json()) as { targets: { target: string; breaker: string }[] }
      ).targets.find((t) => t.target === "flappy/m")?.breaker;
    const answer = async () => {
      const res = await fetch(`${cycling.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(res.status, 200);
      return {
        target: res.headers.get("x-tandem-target"),
        text: ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
      };
    };
    try {
      assert.deepEqual(await answer(), { target: "flappy/m", text: "back" });
      flappy.closeAllConnections();
      await down();
      assert.equal((await answer()).target, "b/m");
      assert.equal((await answer()).target, "b/m");
      assert.equal(await breakerOf(), "open");
      flappy = await serve();
      // Still open: skipped without a call until the cooldown has passed.
      assert.equal((await answer()).target, "b/m");
      await new Promise((r) => setTimeout(r, 1550));
      assert.deepEqual(await answer(), { target: "flappy/m", text: "back" }, "the half-open trial went through and succeeded");
      assert.equal(await breakerOf(), "closed");
    } finally {
      await cycling.close();
      flappy.closeAllConnections();
      await down();
    }
  });
});
