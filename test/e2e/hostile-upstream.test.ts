/**
 * Upstreams that break HTTP itself, behind each wire's same-wire path (OpenAI chat, Responses,
 * Anthropic Messages, Ollama chat): a port that speaks something else, broken chunked framing. The
 * client gets the upstream's failure in its own dialect (502 naming the target, Anthropic's 500), never tandem's
 * "internal error" 500, and a route with another tier answers from it. And upstreams whose frames
 * say absurd things (an index of 100 million) that the same-wire path puts together as they came.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** A TCP server that answers every request with what the test sets (no HTTP of its own). */
let answer: (socket: Socket) => void = (socket) => socket.end();
let raw: Server;
let backup: FakeOpenAIUpstream;
let scripted: ScriptedUpstream;
let tandem: RunningTandem;

const WIRES = [
  { wire: "openai chat", path: "/v1/chat/completions", route: "oa", body: { messages: [{ role: "user", content: "Hi" }] } },
  { wire: "responses", path: "/v1/responses", route: "oar", body: { input: "Hi", store: false } },
  { wire: "anthropic", path: "/v1/messages", route: "an", body: { max_tokens: 10, messages: [{ role: "user", content: "Hi" }] } },
  { wire: "ollama", path: "/api/chat", route: "ol", body: { messages: [{ role: "user", content: "Hi" }] } },
] as const;

/** The dialect's error message, whatever its shape. */
function messageOf(dialect: (typeof WIRES)[number]["wire"], json: { error?: unknown }): unknown {
  if (dialect === "ollama") return json.error;
  return (json.error as { message?: unknown } | undefined)?.message;
}

/**
 * Each wire's request to its route, streamed and not, as the failing upstream answers it: the
 * status, the error's message in that dialect, and where it was (for the assertions' messages).
 */
async function* everyWireError(): AsyncGenerator<{
  wire: string;
  route: string;
  status: number;
  message: string;
  where: string;
}> {
  for (const { wire, path, route, body } of WIRES) {
    for (const stream of [true, false]) {
      const res = await fetch(`${tandem.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: route, stream, ...body }),
      });
      const json = (await res.json()) as { error?: unknown };
      const where = `${wire} ${stream ? "streamed" : "whole"}: ${JSON.stringify(json)}`;
      yield { wire, route, status: res.status, message: String(messageOf(wire, json)), where };
    }
  }
}

before(async () => {
  raw = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => answer(socket));
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  backup = await startFakeOpenAI({ models: ["m"] });
  scripted = await startScriptedUpstream();
  backup.script(() => ({ kind: "text", text: "from the backup" }));
  const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  const models = { m: { id: "up-model" } };
  const once = { retry: { attempts: 1 } };
  tandem = await startTandem({
    providers: {
      oa: { kind: "openai", baseUrl: `${url}/v1`, models },
      oar: { kind: "openai", baseUrl: `${url}/v1`, responses: true, models },
      an: { kind: "anthropic", baseUrl: url, models },
      ol: { kind: "ollama", baseUrl: url, models },
      backup: { kind: "openai", baseUrl: backup.url, models: ["m"] },
      soa: { kind: "openai", baseUrl: `${scripted.url}/v1`, responses: true, models },
      san: { kind: "anthropic", baseUrl: scripted.url, models },
      soc: { kind: "openai", baseUrl: `${scripted.url}/v1`, models },
      sol: { kind: "ollama", baseUrl: scripted.url, models },
    },
    routes: {
      oa: { tiers: ["oa/m"], ...once },
      oar: { tiers: ["oar/m"], ...once },
      an: { tiers: ["an/m"], ...once },
      ol: { tiers: ["ol/m"], ...once },
      "oa-then-backup": { tiers: ["oa/m", "backup/m"], ...once },
      "deep-soc": { tiers: ["soc/m", "backup/m"], ...once },
      "deep-soc-whole": { tiers: ["soc/m", "backup/m"], streamUpstream: false, ...once },
      "deep-san": { tiers: ["san/m", "backup/m"], ...once },
      "deep-san-whole": { tiers: ["san/m", "backup/m"], streamUpstream: false, ...once },
      "deep-sol": { tiers: ["sol/m", "backup/m"], ...once },
      "deep-sol-whole": { tiers: ["sol/m", "backup/m"], streamUpstream: false, ...once },
      "deep-soc-alone": { tiers: ["soc/m"], ...once },
      "deep-san-alone": { tiers: ["san/m"], ...once },
    },
    // Every case here fails its target on purpose: no breaker opens between them.
    breaker: { failureThreshold: 1000, cooldownMs: 1000 },
  });
});

after(async () => {
  await tandem?.close();
  await backup?.close();
  await scripted?.close();
  raw?.close();
});

describe("an upstream that breaks HTTP", () => {
  const cases: Record<string, (socket: Socket) => void> = {
    "speaks something else (an SSH banner)": (socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n"),
    "breaks its chunked framing": (socket) =>
      socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nzz\r\ngarbage\r\n"),
  };
  for (const [what, reply] of Object.entries(cases)) {
    it(`${what}: a 502 in the client's dialect naming the target, streamed and not`, async () => {
      answer = reply;
      for await (const { wire, route, status, message, where } of everyWireError()) {
        // Anthropic's API answers an upstream failure as 500 api_error (it sends no 502).
        assert.equal(status, wire === "anthropic" ? 500 : 502, where);
        assert.match(message, new RegExp(`^${route}(/up-model)?: `), where);
        assert.doesNotMatch(message, /internal error/i, where);
      }
    });
  }

  it("answers 200 with an HTML page (a proxy's): the error names the content type and shows the page, streamed and not", async () => {
    const page = "<html><body>Bad gateway page</body></html>";
    answer = (socket) =>
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: ${page.length}\r\n\r\n${page}`);
    for await (const { wire, route, status, message, where } of everyWireError()) {
      assert.equal(status, wire === "anthropic" ? 500 : 502, where);
      assert.match(message, new RegExp(`^${route}(/up-model)?: `), where);
      assert.match(message, /text\/html/, where);
      assert.match(message, /Bad gateway page/, where);
    }
  });

  it("is left for the next tier", async () => {
    answer = cases["speaks something else (an SSH banner)"] as (socket: Socket) => void;
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "oa-then-backup", messages: [{ role: "user", content: "Hi" }] }),
    });
    const json = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(res.status, 200);
    assert.equal(json.choices[0]?.message.content, "from the backup");
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /oa\/m: upstream_error/);
  });
});

describe("an upstream whose frames carry an absurd index", () => {
  // Put together as an array, index 100 million is that many holes to walk and serialise: the
  // server's one thread held for many seconds, and an answer of hundreds of megabytes of nulls.
  const HUGE = 100_000_000;
  const sse = (data: object, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
  const chunk = (choice: object) =>
    sse({ id: "c1", object: "chat.completion.chunk", created: 1, model: "up-model", choices: [choice] });

  it("OpenAI chat, a choice and a tool call at index 100 million: put together by index, in order", async () => {
    scripted.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        chunk({ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }),
        chunk({ index: HUGE, delta: { content: "odd" }, finish_reason: null }),
        chunk({
          index: 0,
          delta: { tool_calls: [{ index: HUGE, id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] },
          finish_reason: null,
        }),
        chunk({ index: 0, delta: {}, finish_reason: "tool_calls" }),
        "data: [DONE]\n\n",
      ],
    }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "soa/m", messages: [{ role: "user", content: "Hi" }] }),
    });
    const json = (await res.json()) as { choices: { index: number; message: { content: string; tool_calls?: unknown[] } }[] };
    assert.equal(res.status, 200, JSON.stringify(json).slice(0, 300));
    assert.deepEqual(
      json.choices.map((c) => [c.index, c.message.content]),
      [
        [0, "Hi"],
        [HUGE, "odd"],
      ],
    );
    assert.deepEqual(json.choices[0]?.message.tool_calls, [
      { id: "call_1", type: "function", function: { name: "f", arguments: "{}" } },
    ]);
  });

  it("Anthropic, a content block at index 100 million: put together by index, in order", async () => {
    const start = {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "up-model",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 1 },
      },
    };
    scripted.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        sse(start, "message_start"),
        sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
        sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } }, "content_block_delta"),
        sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
        sse({ type: "content_block_start", index: HUGE, content_block: { type: "text", text: "" } }, "content_block_start"),
        sse({ type: "content_block_stop", index: HUGE }, "content_block_stop"),
        sse(
          { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
          "message_delta",
        ),
        sse({ type: "message_stop" }, "message_stop"),
      ],
    }));
    const res = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "san/m", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] }),
    });
    const json = (await res.json()) as { content: { type: string; text: string }[] };
    assert.equal(res.status, 200, JSON.stringify(json).slice(0, 300));
    assert.deepEqual(json.content, [
      { type: "text", text: "Hi" },
      { type: "text", text: "" },
    ]);
  });

  it("Responses, streamed, an output item at index 100 million and then a break: the failed response's output stays small", async () => {
    const response = { id: "resp_1", object: "response", created_at: 1, status: "in_progress", model: "up-model", output: [] };
    const item = { id: "msg_1", type: "message", role: "assistant", status: "in_progress", content: [] };
    scripted.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        sse({ type: "response.created", sequence_number: 0, response }, "response.created"),
        sse({ type: "response.output_item.added", sequence_number: 1, output_index: HUGE, item }, "response.output_item.added"),
        sse(
          {
            type: "response.output_text.delta",
            sequence_number: 2,
            output_index: HUGE,
            item_id: "msg_1",
            content_index: 0,
            delta: "Hi",
          },
          "response.output_text.delta",
        ),
      ],
      breakOff: true,
    }));
    const res = await fetch(`${tandem.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "soa/m", input: "Hi", stream: true, store: false }),
    });
    const text = await res.text();
    assert.ok(text.length < 100_000, `a ${text.length}-character stream`);
    const failed = text.split("\n\n").find((frame) => frame.startsWith("event: response.failed"));
    assert.ok(failed, text.slice(-500));
    const output = (JSON.parse(failed.slice(failed.indexOf("data: ") + 6)) as { response: { output: unknown[] } }).response
      .output;
    assert.ok(output.length <= 1, `an output of ${output.length} items`);
  });
});

describe("an upstream whose answer nests a field deeper than tandem can serialise again", () => {
  // JSON.parse reads any depth, JSON.stringify recurses: an answer put together for a client that
  // did not stream is written out again, and 20,000 levels overflow the stack.
  const DEEP = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
  const sse = (data: string, event?: string) => `${event ? `event: ${event}\n` : ""}data: ${data}\n\n`;
  const openaiStream = [
    sse(
      `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}],"x_deep":${DEEP}}`,
    ),
    sse(
      '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
    ),
    "data: [DONE]\n\n",
  ];
  const openaiWhole = `{"id":"c1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"x_deep":${DEEP}}`;
  const anthropicMessage = (content: string) =>
    `{"id":"msg_1","type":"message","role":"assistant","model":"up-model","content":${content},"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1},"x_deep":${DEEP}}`;
  const anthropicStream = [
    sse(`{"type":"message_start","message":${anthropicMessage("[]")}}`, "message_start"),
    sse('{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}', "content_block_start"),
    sse('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}', "content_block_delta"),
    sse('{"type":"content_block_stop","index":0}', "content_block_stop"),
    sse(
      '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}',
      "message_delta",
    ),
    sse('{"type":"message_stop"}', "message_stop"),
  ];
  const anthropicWhole = anthropicMessage('[{"type":"text","text":"hi"}]').replace(
    '"stop_reason":null',
    '"stop_reason":"end_turn"',
  );
  const ollamaStream = [
    `{"model":"up-model","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"hi"},"done":false,"x_deep":${DEEP}}\n`,
    '{"model":"up-model","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}\n',
  ];
  const ollamaWhole = `{"model":"up-model","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1,"x_deep":${DEEP}}`;
  const answerDeep = () =>
    scripted.script((request) => {
      const streamed = request.body.stream !== false;
      const [contentType, writes] = request.path.startsWith("/v1/chat")
        ? streamed
          ? ["text/event-stream", openaiStream]
          : ["application/json", [openaiWhole]]
        : request.path.startsWith("/v1/messages")
          ? streamed
            ? ["text/event-stream", anthropicStream]
            : ["application/json", [anthropicWhole]]
          : streamed
            ? ["application/x-ndjson", ollamaStream]
            : ["application/json", [ollamaWhole]];
      return { kind: "stream", contentType, writes };
    });

  const CLIENTS = [
    { wire: "openai chat", path: "/v1/chat/completions", body: { messages: [{ role: "user", content: "Hi" }] } },
    { wire: "anthropic", path: "/v1/messages", body: { max_tokens: 10, messages: [{ role: "user", content: "Hi" }] } },
    { wire: "ollama", path: "/api/chat", body: { messages: [{ role: "user", content: "Hi" }] } },
    { wire: "responses", path: "/v1/responses", body: { input: "Hi", store: false } },
  ] as const;

  // The same-wire client gets the upstream's own answer put together again; another wire's client
  // gets it translated, without the field, and so from the upstream itself.
  const SAME_WIRE: Record<string, string> = { soc: "openai chat", san: "anthropic", sol: "ollama" };
  for (const upstream of ["soc", "san", "sol"]) {
    for (const whole of [false, true]) {
      const route = `deep-${upstream}${whole ? "-whole" : ""}`;
      it(`${upstream} ${whole ? "answering whole" : "streaming"}: a client that did not stream is answered, by the next tier on the same wire`, async () => {
        answerDeep();
        for (const { wire, path, body } of CLIENTS) {
          const res = await fetch(`${tandem.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: route, stream: false, ...body }),
          });
          const text = await res.text();
          const where = `${wire} client: ${text.slice(0, 300)}`;
          assert.equal(res.status, 200, where);
          if (wire !== SAME_WIRE[upstream]) continue;
          assert.match(text, /from the backup/, where);
          assert.match(
            res.headers.get("x-tandem-degraded") ?? "",
            new RegExp(`${upstream}/m.*upstream_error`),
            `${where} ${res.headers.get("x-tandem-degraded")}`,
          );
        }
      });
    }
  }

  it("with no other tier: a 502 naming the target, never tandem's internal error", async () => {
    answerDeep();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "deep-soc-alone", messages: [{ role: "user", content: "Hi" }] }),
    });
    const json = (await res.json()) as { error: { message: string; type: string } };
    assert.equal(res.status, 502, JSON.stringify(json));
    assert.match(json.error.message, /soc\/m: .*nested more than \d+ levels deep/);
  });

  it("a streaming client still gets the answer as it came", async () => {
    answerDeep();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "deep-soc-alone", stream: true, messages: [{ role: "user", content: "Hi" }] }),
    });
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(text.includes(DEEP), text.slice(0, 300));
    assert.match(text, /data: \[DONE\]/);
  });

  // Every reader of the frames on their way through (the usage tap, the stream's own checks) walks
  // them without recursion, or leaves a frame too deep for it unread: never a stack overflow.
  for (const [shape, deep] of [
    ["arrays", DEEP],
    ["objects", `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`],
  ] as const) {
    it(`an Anthropic streaming client gets an event nesting ${shape} 20,000 deep as it came`, async () => {
      const frames = anthropicStream.map((frame) => frame.replace(DEEP, deep));
      scripted.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: frames }));
      const res = await fetch(`${tandem.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({
          model: "deep-san-alone",
          stream: true,
          max_tokens: 10,
          messages: [{ role: "user", content: "Hi" }],
        }),
      });
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.doesNotMatch(text, /call stack|event: error/, text.slice(-300));
      assert.ok(text.includes(deep), text.slice(0, 300));
      assert.match(text, /event: message_stop/);
    });
  }
});
