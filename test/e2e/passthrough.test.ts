/**
 * Same-wire pass-through: an Anthropic client's request reaches an Anthropic upstream as the client
 * sent it (every field, known or not, in every position; its beta and version headers), but for the
 * model, `stream`, the key and what the route redacts; the upstream's answer reaches the client with
 * every field (thinking blocks with their signatures, cache usage counters). Checked byte for byte
 * with a recorder on each side of tandem, through the official SDK, streamed and not. Also: what
 * cannot cross to a target on another wire is named in `x-tandem-warnings`; a native stream that
 * breaks continues on another target in one well-formed stream; redaction still applies.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type ByteRecorder, startByteRecorder } from "../support/byte-recorder.js";
import { type FakeOpenAIRawReply, type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** What the scripted Anthropic upstream does with one request. */
type Reply =
  | { kind: "json"; body: unknown }
  | { kind: "sse"; frames: Array<[string, unknown]> /** Drop the connection after the frames. */; breakOff?: boolean };

/** An Anthropic upstream that answers with exactly the frames a test scripts (no canonical model of its own). */
interface ScriptedAnthropic {
  url: string;
  script(reply: (body: Record<string, unknown>) => Reply): void;
  close(): Promise<void>;
}

async function startScriptedAnthropic(): Promise<ScriptedAnthropic> {
  let script: (body: Record<string, unknown>) => Reply = () => ({ kind: "json", body: {} });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [], has_more: false }));
        return;
      }
      const reply = script(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      if (reply.kind === "json") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply.body));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const [event, data] of reply.frames) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (reply.breakOff) setTimeout(() => res.destroy(), 20);
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script: (reply) => {
      script = reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds";
const USAGE = { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 2048, output_tokens: 9 };

/** A whole answer with what the canonical form does not keep: thinking with its signature, cache counters. */
function wholeMessage(text: string): unknown {
  return {
    id: "msg_up_1",
    type: "message",
    role: "assistant",
    model: "claude-up",
    content: [
      { type: "thinking", thinking: "Let me think.", signature: SIGNATURE },
      { type: "text", text },
    ],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { ...USAGE, service_tier: "standard" },
  };
}

/** The same answer as Anthropic streams it; `upTo` frames of the text (then the stream may break off). */
function streamFrames(
  texts: string[],
  options: { end?: boolean; usage?: Record<string, unknown> } = {},
): Array<[string, unknown]> {
  const frames: Array<[string, unknown]> = [
    [
      "message_start",
      {
        type: "message_start",
        message: {
          id: "msg_up_2",
          type: "message",
          role: "assistant",
          model: "claude-up",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...(options.usage ?? USAGE), output_tokens: 1 },
        },
      },
    ],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }],
    [
      "content_block_delta",
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me think." } },
    ],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: SIGNATURE } }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["ping", { type: "ping" }],
    ["content_block_start", { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }],
    ...texts.map((text): [string, unknown] => [
      "content_block_delta",
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text } },
    ]),
  ];
  if (options.end === false) return frames;
  return [
    ...frames,
    ["content_block_stop", { type: "content_block_stop", index: 1 }],
    [
      "message_delta",
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        // As the API sends it: counters it does not repeat are null (the SDKs keep message_start's).
        usage: { output_tokens: 9, input_tokens: null, cache_creation_input_tokens: null, cache_read_input_tokens: null },
      },
    ],
    ["message_stop", { type: "message_stop" }],
  ];
}

/** A request with the fields the canonical form leaves out, in several positions, and one no schema knows. */
const PARAMS = {
  max_tokens: 2048,
  system: [
    { type: "text", text: "You are terse." },
    { type: "text", text: "A long, stable preamble.", cache_control: { type: "ephemeral", ttl: "1h" } },
  ],
  messages: [
    { role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" } }] },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "Earlier.", signature: "sig-earlier" },
        { type: "text", text: "Hello." },
      ],
    },
    { role: "user", content: "And now?" },
  ],
  thinking: { type: "enabled", budget_tokens: 1024 },
  context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
  output_config: { effort: "high" },
  metadata: { user_id: "u-1" },
  x_future_field: { nested: [1, "two", null] },
} as unknown as Omit<Anthropic.MessageCreateParamsNonStreaming, "model">;

const BETA = "context-management-2025-06-27,interleaved-thinking-2025-05-14";

let upstream: ScriptedAnthropic;
let openai: FakeOpenAIUpstream;
let toUpstream: ByteRecorder;
let toTandem: ByteRecorder;
let tandem: RunningTandem;
let client: Anthropic;

before(async () => {
  upstream = await startScriptedAnthropic();
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  toUpstream = await startByteRecorder(upstream.url);
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem(
    {
      providers: {
        up: {
          kind: "anthropic",
          baseUrl: toUpstream.url,
          local: false,
          apiKeys: ["env:UP_KEY"],
          models: { claude: { id: "claude-up" } },
        },
        openai: { kind: "openai", baseUrl: openai.url, models: { gpt: { id: "gpt-4o-mini" } } },
      },
      routes: {
        "up-then-openai": { tiers: [["up/claude"], ["openai/gpt"]], ...fast },
        "openai-then-up": { tiers: [["openai/gpt"], ["up/claude"]], ...fast },
        "redact-up": { tiers: [["up/claude"]], privacy: "redact", ...fast },
        "redact-up-whole": { tiers: [["up/claude"]], privacy: "redact", streamUpstream: false, ...fast },
        "up-whole": { tiers: [["up/claude"]], streamUpstream: false, ...fast },
      },
      // Streams broken on purpose (the continuations below) count against their target: never enough
      // here to open a breaker that would skip it in a later test.
      breaker: { failureThreshold: 1000 },
    },
    { env: { UP_KEY: "sk-ant-upstream" }, store: true },
  );
  toTandem = await startByteRecorder(tandem.url);
  client = new Anthropic({ baseURL: toTandem.url, apiKey: "unused", maxRetries: 0, defaultHeaders: { "anthropic-beta": BETA } });
});

after(async () => {
  await tandem?.close();
  await Promise.all([toTandem?.close(), toUpstream?.close(), upstream?.close(), openai?.close()]);
});

/** The one request each recorder saw since the last clear(). */
function lastBodies(): {
  sent: string;
  received: string;
  sentHeaders: Record<string, string>;
  upstreamHeaders: Record<string, string>;
} {
  const [sentRequest] = toTandem.requests().filter((r) => r.method === "POST");
  const [receivedRequest] = toUpstream.requests().filter((r) => r.method === "POST");
  assert.ok(sentRequest && receivedRequest, "one request on each side");
  return {
    sent: sentRequest.body.toString("utf8"),
    received: receivedRequest.body.toString("utf8"),
    sentHeaders: sentRequest.headers,
    upstreamHeaders: receivedRequest.headers,
  };
}

/** The client's exact body with only `model` and `stream` set as tandem must set them, serialized as the SDK does. */
function expectedUpstreamBody(sent: string, stream: boolean, replace?: [string, string]): string {
  const body = JSON.parse(sent) as Record<string, unknown>;
  const out = JSON.stringify({ ...body, model: "claude-up", stream });
  return replace ? out.replaceAll(replace[0], replace[1]) : out;
}

function clear(): void {
  toTandem.clear();
  toUpstream.clear();
}

describe("Anthropic client to an Anthropic upstream: the body as sent, the answer as given", () => {
  for (const [model, upstreamStreams] of [
    ["up/claude", true],
    ["up-whole", false],
  ] as const) {
    it(`not streamed (${upstreamStreams ? "the upstream streams" : "the upstream answers whole"}): byte-equal body, beta and version headers forwarded, thinking signature and cache counters back`, async () => {
      clear();
      upstream.script((body) =>
        body.stream === true
          ? { kind: "sse", frames: streamFrames(["Fi", "ne."]) }
          : { kind: "json", body: wholeMessage("Fine.") },
      );
      const { data: message, response } = await client.messages.create({ model, ...PARAMS }).withResponse();
      const { sent, received, sentHeaders, upstreamHeaders } = lastBodies();
      assert.equal(received, expectedUpstreamBody(sent, upstreamStreams));
      assert.equal(upstreamHeaders["anthropic-beta"], BETA);
      // The client's version, as it sent it (not tandem's default).
      assert.ok(sentHeaders["anthropic-version"]);
      assert.equal(upstreamHeaders["anthropic-version"], sentHeaders["anthropic-version"]);
      assert.equal(upstreamHeaders["x-api-key"], "sk-ant-upstream");
      assert.equal(response.headers.get("x-tandem-warnings"), null);
      assert.equal(message.model, "up/claude");
      assert.deepEqual(message.content[0], { type: "thinking", thinking: "Let me think.", signature: SIGNATURE });
      assert.equal(message.content[1]?.type === "text" && message.content[1].text, "Fine.");
      assert.equal(message.usage.cache_read_input_tokens, 2048);
      assert.equal(message.usage.input_tokens, USAGE.input_tokens);
      assert.equal(message.usage.cache_creation_input_tokens, USAGE.cache_creation_input_tokens);
      assert.equal(message.usage.output_tokens, upstreamStreams ? 9 : message.usage.output_tokens);
      assert.equal(message.id, upstreamStreams ? "msg_up_2" : "msg_up_1");
      if (!upstreamStreams) assert.equal((message.usage as unknown as { service_tier?: string }).service_tier, "standard");
    });
  }

  it("a body not written as JavaScript writes it (a Python client's spacing, 1.0, 1e-05, escapes) arrives byte for byte but its model and stream", async () => {
    clear();
    upstream.script(() => ({ kind: "sse", frames: streamFrames(["Fi", "ne."]) }));
    const sent =
      '{"model": "up/claude", "max_tokens": 64, "temperature": 1.0, "top_p": 1e-05, "stream": false, ' +
      '"metadata": {"user_id": "caf\\u00e9"}, "messages": [{"role": "user", "content": "Caf\\u00e9 \\"quoted\\" {not json}"}], ' +
      '"x_future": {"model": "not this one", "n": 12345678901234567890}}';
    const res = await fetch(`${toTandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "unused" },
      body: sent,
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { received } = lastBodies();
    assert.equal(
      received,
      sent.replace('"model": "up/claude"', '"model": "claude-up"').replace('"stream": false', '"stream": true'),
    );
  });

  it("streamed: byte-equal body, and every upstream event reaches the client (signature_delta, ping, cache counters)", async () => {
    clear();
    upstream.script(() => ({ kind: "sse", frames: streamFrames(["Fi", "ne."]) }));
    const stream = client.messages.stream({ model: "up/claude", ...PARAMS });
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    const message = await stream.finalMessage();
    const { sent, received } = lastBodies();
    assert.equal(received, expectedUpstreamBody(sent, true));
    assert.equal(message.model, "up/claude");
    assert.deepEqual(message.content[0], { type: "thinking", thinking: "Let me think.", signature: SIGNATURE });
    assert.equal(message.content[1]?.type === "text" && message.content[1].text, "Fine.");
    assert.equal(message.usage.cache_read_input_tokens, 2048);
    assert.equal(types.filter((t) => t === "message_stop").length, 1);
  });

  it("streamed: the client's wire carries the upstream's own events (ping, signature_delta, cache counters)", async () => {
    upstream.script(() => ({ kind: "sse", frames: streamFrames(["Fine."]) }));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "up/claude", ...PARAMS, stream: true }),
    });
    const wire = await res.text();
    assert.match(wire, /event: ping\ndata: \{"type":"ping"\}\n\n/);
    assert.ok(wire.includes(`{"type":"signature_delta","signature":"${SIGNATURE}"}`), wire);
    assert.ok(
      wire.includes(
        '"usage":{"output_tokens":9,"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null}',
      ),
      wire,
    );
    assert.ok(wire.includes('"cache_read_input_tokens":2048'), wire);
    assert.ok(wire.includes('"model":"up/claude"'), wire);
  });
});

describe("what cannot cross to another wire", () => {
  it("is named in x-tandem-warnings", async () => {
    openai.script(() => ({ kind: "text", text: "Fine.", usage: { input: 9, output: 2 } }));
    const { response } = await client.messages.create({ model: "openai/gpt", ...PARAMS }).withResponse();
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    // `thinking` crosses (as reasoning_effort) and so does earlier thinking, but the chat wire has no field for that.
    // The client's betas (its anthropic-beta header) reach only an Anthropic upstream given its own body.
    for (const field of [
      "context_management",
      "output_config.effort",
      "x_future_field",
      "cache_control",
      "earlier reasoning",
      "anthropic-beta",
    ]) {
      assert.ok(warnings.includes(`${field} not sent`), `${field} in: ${warnings}`);
    }
    assert.ok(!warnings.includes("thinking not sent"), warnings);
  });

  it("is named for a stream too", async () => {
    openai.script(() => ({ kind: "text", text: "Fine.", usage: { input: 9, output: 2 } }));
    const { response } = await client.messages.create({ model: "openai/gpt", ...PARAMS, stream: true }).withResponse();
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning not sent/);
  });
});

describe("an OpenAI chat request to a target on another wire", () => {
  it("names what the rebuilt request leaves out (to an OpenAI-compatible target it is passed through: see passthrough-openai.test.ts)", async () => {
    upstream.script(() => ({ kind: "json", body: wholeMessage("Fine.") }));
    const oa = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data: completion, response } = await oa.chat.completions
      .create({
        model: "up-whole",
        messages: [{ role: "user", content: "Hi" }],
        reasoning_effort: "high",
        logprobs: true,
        top_logprobs: 2,
        metadata: { run: "1" },
        service_tier: "flex",
        prediction: { type: "content", content: "Fine." },
      })
      .withResponse();
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    for (const field of ["logprobs", "top_logprobs", "metadata", "service_tier", "prediction"]) {
      assert.ok(warnings.includes(`${field} not sent to up/claude`), `${field} in: ${warnings}`);
    }
    // reasoning_effort crosses, as Anthropic's thinking.
    assert.ok(!warnings.includes("reasoning_effort"), warnings);
    // The Anthropic answer's cache counters, in OpenAI's fields: prompt_tokens counts the whole prompt.
    assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 2048);
    assert.equal(completion.usage?.prompt_tokens, 12 + 2048);
    const plain = await oa.chat.completions
      .create({ model: "up-whole", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(plain.response.headers.get("x-tandem-warnings"), null);
  });
});

describe("a native stream that lacks only its message_stop", () => {
  // The whole answer and message_delta's stop reason came; the upstream closed before message_stop.
  const cutAtStop = () => streamFrames(["Hello", " world"]).filter(([event]) => event !== "message_stop");

  it("is a complete answer: a streaming client gets it ending with message_stop, nothing continued elsewhere", async () => {
    upstream.script(() => ({ kind: "sse", frames: cutAtStop() }));
    const asked = openai.requests.length;
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "up-then-openai", ...PARAMS, stream: true }),
    });
    const wire = await res.text();
    assert.equal(res.headers.get("x-tandem-degraded"), "false");
    assert.doesNotMatch(wire, /tandem switched/);
    assert.match(wire, /"stop_reason":"end_turn"/);
    assert.ok(wire.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'), wire.slice(-200));
    assert.equal(openai.requests.length, asked, "no other target was asked to go on");
    // And the SDK reads it as the one message it is.
    upstream.script(() => ({ kind: "sse", frames: cutAtStop() }));
    const message = await client.messages.stream({ model: "up-then-openai", ...PARAMS }).finalMessage();
    assert.equal(message.content.map((b) => (b.type === "text" ? b.text : "")).join(""), "Hello world");
    assert.equal(message.stop_reason, "end_turn");
  });

  it("a client that did not stream gets that answer, not a fresh one from the next target", async () => {
    upstream.script(() => ({ kind: "sse", frames: cutAtStop() }));
    const asked = openai.requests.length;
    const { data: message, response } = await client.messages.create({ model: "up-then-openai", ...PARAMS }).withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "up/claude");
    assert.equal(message.content.map((b) => (b.type === "text" ? b.text : "")).join(""), "Hello world");
    assert.equal(openai.requests.length, asked);
  });
});

describe("a native stream that breaks", () => {
  it("continues on the next target in one well-formed stream", async () => {
    clear();
    upstream.script(() => ({ kind: "sse", frames: streamFrames(["Hello", " wor"], { end: false }), breakOff: true }));
    openai.script(() => ({ kind: "text", text: "ld!", usage: { input: 9, output: 2 } }));
    const stream = client.messages.stream({ model: "up-then-openai", ...PARAMS });
    const events: Array<{ type: string; index?: number }> = [];
    stream.on("streamEvent", (event) => events.push(event as { type: string; index?: number }));
    const message = await stream.finalMessage();
    // The upstream's thinking block with its signature, its text so far, then the continuation's.
    assert.deepEqual(message.content[0], { type: "thinking", thinking: "Let me think.", signature: SIGNATURE });
    const text = message.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    assert.equal(text, "Hello world!");
    assert.equal(events.filter((e) => e.type === "message_start").length, 1);
    assert.equal(events.filter((e) => e.type === "message_stop").length, 1);
    // Every block started is stopped once, and block indexes never repeat.
    const starts = events.filter((e) => e.type === "content_block_start").map((e) => e.index);
    const stops = events.filter((e) => e.type === "content_block_stop").map((e) => e.index);
    assert.deepEqual(starts, [0, 1, 2]);
    assert.deepEqual(stops, [0, 1, 2]);
    // The continuation was asked with the canonical form: the text so far and an instruction.
    const continued = openai.requests.at(-1)?.body as { messages: Array<{ content: unknown }> };
    assert.ok(JSON.stringify(continued.messages).includes("Hello wor"));
  });

  it("streamed: the switch's SSE comment names what the new target was not sent (the headers were written for the first)", async () => {
    upstream.script(() => ({ kind: "sse", frames: streamFrames(["Hello", " wor"], { end: false }), breakOff: true }));
    openai.script(() => ({ kind: "text", text: "ld!", usage: { input: 9, output: 2 } }));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "up-then-openai", ...PARAMS, top_k: 5, stream: true }),
    });
    const wire = await res.text();
    // The new target's own too: a setting its API lacks.
    assert.match(wire, /^: tandem switched .*not sent to openai\/gpt: .*top_k/m);
    assert.match(
      wire,
      /^: tandem switched from up\/claude to openai\/gpt after [a-z_]+; the answer continues; not sent to openai\/gpt: .*cache_control/m,
    );
  });

  it("not streamed, answered afresh elsewhere: the answer names that target, its usage and what it was not sent", async () => {
    upstream.script(() => ({ kind: "sse", frames: streamFrames(["Hello", " wor"], { end: false }), breakOff: true }));
    openai.script(() => ({ kind: "text", text: "Hi from openai.", usage: { input: 30, output: 4 } }));
    const { data: message, response } = await client.messages.create({ model: "up-then-openai", ...PARAMS }).withResponse();
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /answered afresh on openai\/gpt/);
    assert.equal(response.headers.get("x-tandem-target"), "openai/gpt");
    assert.equal(message.model, "openai/gpt");
    assert.deepEqual(
      message.content.map((b) => b.type),
      ["text"],
    );
    // openai/gpt's counts, not up/claude's input with openai's output.
    assert.equal(message.usage.input_tokens, 30);
    assert.equal(message.usage.output_tokens, 4);
    assert.equal(message.usage.cache_read_input_tokens ?? 0, 0);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /cache_control not sent to openai\/gpt/);
  });
});

describe("the usage of an answer continued on another target", () => {
  // The prompt's 515 tokens as Anthropic counts them: 15 uncached, 200 written to the cache (150 for
  // 5 minutes, 50 for an hour), 300 read from it.
  const CACHED = {
    input_tokens: 15,
    cache_creation_input_tokens: 200,
    cache_read_input_tokens: 300,
    cache_creation: { ephemeral_5m_input_tokens: 150, ephemeral_1h_input_tokens: 50 },
  };
  /** OpenAI's chunks of a stream that breaks off after some text, before its usage chunk. */
  const brokenOpenAI = (): FakeOpenAIRawReply => ({
    kind: "raw",
    body: ["Hello", " wor"].map(
      (content) =>
        `data: ${JSON.stringify({ id: "chatcmpl-up", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`,
    ),
    end: "destroy",
  });
  const ROUTES = {
    // Anthropic said its input and cache counters in message_start, then broke; OpenAI went on.
    "up-then-openai": () => {
      upstream.script(() => ({
        kind: "sse",
        frames: streamFrames(["Hello", " wor"], { end: false, usage: CACHED }),
        breakOff: true,
      }));
      openai.script(() => ({ kind: "text", text: "ld!", usage: { input: 9, output: 2 } }));
    },
    // OpenAI broke before its usage chunk; Anthropic went on, its counters those of its own prompt.
    "openai-then-up": () => {
      openai.script(brokenOpenAI);
      upstream.script(() => ({ kind: "sse", frames: streamFrames(["ld!"], { usage: CACHED }) }));
    },
  };

  it("Anthropic client: input_tokens leaves out the cache reads and writes of the same prompt, which are kept", async () => {
    ROUTES["up-then-openai"]();
    const message = await client.messages.stream({ model: "up-then-openai", ...PARAMS }).finalMessage();
    assert.equal(message.content.map((b) => (b.type === "text" ? b.text : "")).join(""), "Hello world!");
    const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, cache_creation } = message.usage;
    assert.deepEqual(
      { input_tokens, cache_creation_input_tokens, cache_read_input_tokens },
      { input_tokens: 15, cache_creation_input_tokens: 200, cache_read_input_tokens: 300 },
    );
    // message_start's breakdown of the writes agrees with the closing count.
    assert.equal((cache_creation?.ephemeral_5m_input_tokens ?? 0) + (cache_creation?.ephemeral_1h_input_tokens ?? 0), 200);
  });

  for (const route of ["up-then-openai", "openai-then-up"] as const) {
    it(`OpenAI chat client (${route}): prompt_tokens counts the cached tokens it says it read`, async () => {
      ROUTES[route]();
      const chat = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const completion = await chat.chat.completions
        .stream({ model: route, messages: [{ role: "user", content: "Hi" }], stream_options: { include_usage: true } })
        .finalChatCompletion();
      assert.equal(completion.choices[0]?.message.content, "Hello world!");
      assert.equal(completion.usage?.prompt_tokens, 515);
      assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 300);
    });

    it(`Responses client (${route}): input_tokens counts the cache reads and writes it names`, async () => {
      ROUTES[route]();
      const responses = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const response = await responses.responses.stream({ model: route, input: "Hi", store: false }).finalResponse();
      assert.equal(response.output_text, "Hello world!");
      assert.equal(response.usage?.input_tokens, 515);
      const details = response.usage?.input_tokens_details as { cached_tokens: number; cache_write_tokens?: number };
      assert.deepEqual(details, { cached_tokens: 300, cache_write_tokens: 200 });
    });
  }
});

describe("privacy on the native path", () => {
  const EMAIL = "alice.liddell@example.org";
  it("redacts the raw body's text upstream and restores the answer, also a placeholder split across frames", async () => {
    for (const [stream, route] of [
      [false, "redact-up"],
      [false, "redact-up-whole"],
      [true, "redact-up"],
    ] as const) {
      clear();
      let placeholder = "";
      let upstreamStreams = false;
      upstream.script((body) => {
        placeholder = /\[[A-Z_]*EMAIL[A-Z_]*_1\]|\S*EMAIL\S*/.exec(JSON.stringify(body.messages))?.[0] ?? "";
        const half = Math.floor(placeholder.length / 2);
        upstreamStreams = body.stream === true;
        return upstreamStreams
          ? { kind: "sse", frames: streamFrames([`Mail ${placeholder.slice(0, half)}`, `${placeholder.slice(half)} now.`]) }
          : { kind: "json", body: wholeMessage(`Mail ${placeholder} now.`) };
      });
      const params = {
        ...PARAMS,
        messages: [
          { role: "user", content: [{ type: "text", text: `Write to ${EMAIL} please`, cache_control: { type: "ephemeral" } }] },
        ],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming;
      const message = stream
        ? await client.messages.stream({ ...params, model: route }).finalMessage()
        : await client.messages.create({ ...params, model: route });
      const { sent, received } = lastBodies();
      assert.ok(placeholder !== "" && placeholder !== EMAIL, `a placeholder upstream: ${received}`);
      assert.ok(!toUpstream.received().toString("utf8").includes(EMAIL), "the email never reached the upstream");
      assert.equal(received, expectedUpstreamBody(sent, upstreamStreams, [EMAIL, placeholder]));
      // The egress audit has the digest of exactly the bytes that left, and what was redacted.
      const sha256 = createHash("sha256").update(received).digest("hex");
      const audit = (await (await fetch(`${tandem.url}/v1/audit?limit=20`)).json()) as {
        data: Array<{ sha256: string; redactions: Record<string, number> }>;
      };
      const row = audit.data.find((r) => r.sha256 === sha256);
      assert.ok(row, "an audit row for the body sent");
      assert.ok((row.redactions.email ?? 0) >= 1, JSON.stringify(row.redactions));
      assert.equal(upstreamStreams, route === "redact-up");
      const text = message.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      assert.equal(text, `Mail ${EMAIL} now.`, `stream=${stream}`);
      assert.equal(message.content[0]?.type === "thinking" && message.content[0].signature, SIGNATURE);
    }
  });
});
