/**
 * What the newest openai SDK (openai-node 7.60) expects of the Responses API that 6.49, which the
 * rest of the suite pins, did not: fields its types made required, input items it lets a client
 * send, and the WebSocket lanes (`stream_id`) and steering (`response.steer`) of its WebSocket
 * helpers. Driven with raw fetch, the pinned SDK and a bare WebSocket; the shapes are zod copies of
 * the 7.60 types (`resources/responses/responses.d.ts`), not imports (npm test does not install 7).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { z } from "zod";
import { MAX_ACTIVE_LANES } from "../../src/dialects/openai/index.js";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { connectResponsesSocket as connect } from "../support/responses-socket-client.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CHAT = "openai/gpt-4o-mini";
const NATIVE = "gpt/gpt-5-mini";

let chat: FakeOpenAIUpstream;
let native: FakeResponsesUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [chat, native] = await Promise.all([startFakeOpenAI({ models: ["gpt-4o-mini"] }), startFakeOpenAIResponses()]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: chat.url, apiKeys: ["env:UP"], local: false },
        gpt: { kind: "openai", baseUrl: native.url, apiKeys: ["env:UP"], responses: true, local: false },
      },
      routes: { once: { tiers: [CHAT], retry: { attempts: 1 } } },
    },
    { env: { UP: "sk-upstream" }, state: new MemoryStateStore() },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([chat?.close(), native?.close()]);
});

beforeEach(() => {
  chat.requests.length = 0;
  native.responseBodies.length = 0;
  chat.script(() => ({ kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }));
  native.script(() => ({ kind: "answer", text: "Hello from responses" }));
});

/** openai-node 7.60 `Response.access_programs: Response.AccessPrograms | null` (required; was absent in 6.49). */
const accessPrograms = z.object({ cyber: z.enum(["standard", "daybreak_blue", "daybreak_red"]) }).nullable();
const responseShape = z.object({ id: z.string(), object: z.literal("response"), access_programs: accessPrograms });

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** The data of each event of an SSE body. */
function sseEvents(text: string): Record<string, unknown>[] {
  return text
    .split("\n\n")
    .flatMap((frame) => frame.split("\n").filter((line) => line.startsWith("data: ")))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

describe("Response.access_programs (required since openai-node 7)", () => {
  for (const model of [CHAT, NATIVE]) {
    it(`is null on a Response answered by ${model}: whole, streamed, retrieved`, async () => {
      const whole = (await client.responses.create({ model, input: "Hi" })) as unknown as Record<string, unknown>;
      assert.equal(responseShape.parse(whole).access_programs, null);
      const retrieved = await fetch(`${tandem.url}/v1/responses/${String(whole.id)}`).then((r) => r.json());
      assert.equal(responseShape.parse(retrieved).access_programs, null);
      const streamed = sseEvents(await (await post("/v1/responses", { model, input: "Hi", stream: true })).text());
      const withResponse = streamed.filter((event) => typeof event.response === "object");
      assert.deepEqual(
        withResponse.map((event) => event.type),
        ["response.created", "response.in_progress", "response.completed"],
      );
      for (const event of withResponse) assert.equal(responseShape.parse(event.response).access_programs, null);
    });
  }

  it("is null on a background response while it is queued, and on a WebSocket warm-up", async () => {
    const queued = await post("/v1/responses", { model: CHAT, input: "Later", background: true }).then((r) => r.json());
    assert.equal(responseShape.parse(queued).access_programs, null);
    const { socket, turn } = await connect(tandem.url);
    try {
      const events = await turn({ type: "response.create", model: CHAT, input: "Warm up", generate: false });
      for (const event of events) assert.equal(responseShape.parse(event.response).access_programs, null);
    } finally {
      socket.close();
    }
  });

  it("keeps a Responses upstream's own access_programs", async () => {
    native.script(() => ({ kind: "answer", text: "Hello", accessPrograms: { cyber: "daybreak_blue" } }));
    const whole = await post("/v1/responses", { model: NATIVE, input: "Hi" }).then((r) => r.json());
    assert.deepEqual(responseShape.parse(whole).access_programs, { cyber: "daybreak_blue" });
  });
});

/** The text of each user and assistant turn a chat upstream was sent. */
const turnsSent = (body: unknown) =>
  (body as { messages: { role: string; content: unknown }[] }).messages
    .filter((m) => m.role === "user" || m.role === "assistant")
    .map((m) => `${m.role}:${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`);

describe("WebSocket lanes (stream_id) and steering, as openai-node 7's ResponsesWebSocketSession uses them", () => {
  it("carries a response.create's stream_id back on every event of its answer, and sends it to no upstream", async () => {
    const { socket, turn } = await connect(tandem.url);
    try {
      for (const model of [CHAT, NATIVE]) {
        const events = await turn({ type: "response.create", model, input: "Hi on a lane", stream_id: "lane-a" });
        assert.equal(events.at(-1)?.type, "response.completed", JSON.stringify(events.at(-1)));
        for (const event of events) assert.equal(event.stream_id, "lane-a", `${String(event.type)} without the lane`);
      }
      assert.ok(!("stream_id" in (native.responseBodies.at(-1) ?? {})), "the Responses upstream was sent stream_id");
      assert.ok(!("stream_id" in ((chat.requests.at(-1)?.body as object) ?? {})), "the chat upstream was sent stream_id");
      // The default lane's events have none.
      const plain = await turn({ type: "response.create", model: CHAT, input: "Hi" });
      for (const event of plain) assert.ok(!("stream_id" in event));
      // An error on a lane is the lane's too.
      const refused = await turn({ type: "response.create", model: "openai/no-such-model", input: "Hi", stream_id: "lane-b" });
      assert.equal(refused.at(-1)?.type, "error");
      assert.equal(refused.at(-1)?.stream_id, "lane-b");
      const bad = await turn({ type: "response.create", model: CHAT, input: "Hi", stream_id: 7 });
      assert.equal(bad.at(-1)?.type, "error");
      assert.equal((bad.at(-1)?.error as { param?: unknown }).param, "stream_id");
    } finally {
      socket.close();
    }
  });

  it("puts a refusal's retry-after in error.headers (openai-node 7's ResponseWsError) and beside error (Codex)", async () => {
    chat.script(() => ({ kind: "error", status: 429, headers: { "retry-after": "1" } }));
    const { socket, turn } = await connect(tandem.url);
    try {
      const events = await turn({ type: "response.create", model: "once", input: "Hi", stream_id: "lane-r" });
      const error = events.at(-1) as { type: string; status: number; error: { headers?: unknown }; headers?: unknown };
      assert.equal(error.type, "error", JSON.stringify(error));
      assert.equal(error.status, 429);
      assert.deepEqual(error.error.headers, { "retry-after": "1" });
      assert.deepEqual(error.headers, { "retry-after": "1" });
    } finally {
      socket.close();
    }
  });

  it("keeps each lane's last response, so store: false chains on two lanes continue on the one socket", async () => {
    chat.script((request) => ({
      kind: "text",
      text: `Answer ${turnsSent(request.body).length}.`,
      usage: { input: 5, output: 2 },
    }));
    const { socket, turn } = await connect(tandem.url);
    try {
      const done = (events: Record<string, unknown>[]) =>
        (events.find((e) => e.type === "response.completed") as { response: { id: string } }).response.id;
      const a1 = done(await turn({ type: "response.create", model: CHAT, store: false, input: "A one", stream_id: "a" }));
      done(await turn({ type: "response.create", model: CHAT, store: false, input: "B one", stream_id: "b" }));
      const a2 = await turn({
        type: "response.create",
        model: CHAT,
        store: false,
        previous_response_id: a1,
        input: "A two",
        stream_id: "a",
      });
      assert.equal(a2.at(-1)?.type, "response.completed", JSON.stringify(a2.at(-1)));
      assert.deepEqual(turnsSent(chat.requests.at(-1)?.body), ["user:A one", "assistant:Answer 1.", "user:A two"]);
    } finally {
      socket.close();
    }
  });

  it("answers response.steer at once with response.steer.failed (steering_not_supported), on the lane of the response it names", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    native.script(() => ({ kind: "answer", text: "A long answer being written", gate }));
    const { socket, until, received } = await connect(tandem.url);
    try {
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "Write a lot", stream_id: "lane-s" }));
      const created = (await until(["response.created"])).find((e) => e.type === "response.created") as {
        response: { id: string };
      };
      const from = received.length;
      socket.send(JSON.stringify({ type: "response.steer", previous_response_id: created.response.id, input: "Shorter" }));
      // Answered while the turn is still held at its gate.
      const failed = (await until(["response.steer.failed"], from)).find((e) => e.type === "response.steer.failed");
      assert.deepEqual(failed, {
        type: "response.steer.failed",
        sequence_number: 0,
        error: {
          type: "invalid_request_error",
          code: "steering_not_supported",
          message:
            "Steering is not supported by tandem: wait for the response to end, then send the input in a new response.create with previous_response_id.",
        },
        steer: { input: "Shorter", previous_response_id: created.response.id },
        stream_id: "lane-s",
      });
      release();
      const rest = await until(["response.completed"], from);
      assert.equal(rest.at(-1)?.stream_id, "lane-s");
    } finally {
      release();
      socket.close();
    }
  });
});

describe("WebSocket lanes side by side (openai-node 7: requests with the same stream_id are processed FIFO)", () => {
  /** The events of one lane, in the order received. */
  const onLane = (events: Record<string, unknown>[], lane: string) => events.filter((e) => e.stream_id === lane);
  const ended = (events: Record<string, unknown>[], lane: string) =>
    onLane(events, lane).some((e) => ["response.completed", "response.failed", "error"].includes(String(e.type)));
  const waitFor = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const inputOf = (request: { body?: unknown }) => JSON.stringify((request.body as { input?: unknown }).input);

  it("interleaves two lanes' events as the upstream paces them, each lane's in order", async () => {
    native.script((request) => ({
      kind: "answer",
      text: inputOf(request).includes("one") ? "Lane one writes this answer slowly." : "Lane two writes another one.",
      paceMs: 10,
    }));
    const { socket, received } = await connect(tandem.url);
    try {
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "one", stream_id: "one" }));
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "two", stream_id: "two" }));
      await waitFor(() => ended(received, "one") && ended(received, "two"), "both lanes");
      const lanes = received.map((e) => e.stream_id);
      const firstTwo = lanes.indexOf("two");
      const lastOne = lanes.lastIndexOf("one");
      assert.ok(firstTwo < lastOne, `lane two started only after lane one ended: ${lanes.join(",")}`);
      for (const [lane, text] of [
        ["one", "Lane one writes this answer slowly."],
        ["two", "Lane two writes another one."],
      ] as const) {
        const events = onLane(received, lane);
        assert.equal(events.at(-1)?.type, "response.completed");
        const numbers = events.map((e) => Number(e.sequence_number));
        assert.deepEqual(
          numbers,
          numbers.map((_, i) => i),
          `${lane}'s sequence numbers`,
        );
        const deltas = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta);
        assert.equal(deltas.join(""), text);
      }
    } finally {
      socket.close();
    }
  });

  it("ends a failing lane on its own: the other lane's answer completes", async () => {
    native.script((request) =>
      inputOf(request).includes("fail")
        ? { kind: "failed", code: "server_error", message: "The model broke." }
        : inputOf(request).includes("refuse")
          ? { kind: "error", status: 400, message: "Refused." }
          : { kind: "answer", text: "The good lane's answer.", paceMs: 10 },
    );
    const { socket, received } = await connect(tandem.url);
    try {
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "good", stream_id: "good" }));
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "fail", stream_id: "bad" }));
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "refuse", stream_id: "worse" }));
      await waitFor(() => ["good", "bad", "worse"].every((lane) => ended(received, lane)), "every lane");
      // A failure before any output: tandem's attempt loop answers it as an error event (the route's last target failed).
      assert.ok(["response.failed", "error"].includes(String(onLane(received, "bad").at(-1)?.type)));
      assert.equal(onLane(received, "worse").at(-1)?.type, "error");
      const good = onLane(received, "good");
      assert.equal(good.at(-1)?.type, "response.completed");
      const failedAt = received.findIndex((e) => e.stream_id === "bad" && ["response.failed", "error"].includes(String(e.type)));
      const completedAt = received.findIndex((e) => e.stream_id === "good" && e.type === "response.completed");
      assert.ok(failedAt < completedAt, "the failure came while the good lane was still answering");
    } finally {
      socket.close();
    }
  });

  it(`refuses a lane past ${MAX_ACTIVE_LANES} answering at once with a 429 error event on it; the others go on`, async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    native.script(() => ({ kind: "answer", text: "Held until the test lets go.", gate }));
    const { socket, received } = await connect(tandem.url);
    try {
      for (let i = 0; i < MAX_ACTIVE_LANES; i++)
        socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: `lane ${i}`, stream_id: `l${i}` }));
      await waitFor(() => received.filter((e) => e.type === "response.created").length === MAX_ACTIVE_LANES, "every lane");
      socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "one too many", stream_id: "extra" }));
      await waitFor(() => ended(received, "extra"), "the refusal");
      const refused = onLane(received, "extra")[0] as { type: string; status: number; error: { code: string } };
      assert.equal(refused.type, "error");
      assert.equal(refused.status, 429);
      assert.equal(refused.error.code, "too_many_active_streams");
      release();
      await waitFor(
        () => Array.from({ length: MAX_ACTIVE_LANES }, (_, i) => `l${i}`).every((l) => ended(received, l)),
        "the lanes",
      );
      assert.ok(
        Array.from({ length: MAX_ACTIVE_LANES }, (_, i) => onLane(received, `l${i}`).at(-1)?.type).every(
          (t) => t === "response.completed",
        ),
      );
    } finally {
      release();
      socket.close();
    }
  });

  it("cancels every lane's upstream request when the socket closes", async () => {
    const gate = new Promise<void>(() => {});
    native.script(() => ({ kind: "answer", text: "Never finished.", gate }));
    const before = native.unfinished();
    const { socket, received } = await connect(tandem.url);
    socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "a", stream_id: "a" }));
    socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "b", stream_id: "b" }));
    socket.send(JSON.stringify({ type: "response.create", model: NATIVE, input: "default lane" }));
    await waitFor(() => received.filter((e) => e.type === "response.output_text.delta").length >= 3, "three answers under way");
    socket.close();
    await waitFor(() => native.unfinished() - before === 3, "three upstream requests cancelled");
  });
});

const LOOKUP = {
  type: "function" as const,
  name: "lookup",
  parameters: { type: "object", properties: { q: { type: "string" } } },
  strict: false,
};

describe("a function_call_output that names its tool instead of its call_id (openai-node 7)", () => {
  it("answers the latest call of that tool still waiting, on a chat target, and is stored with its call_id", async () => {
    chat.script(() => ({ kind: "tool_calls", calls: [{ id: "call_lookup_1", name: "lookup", arguments: { q: "x" } }] }));
    const first = await client.responses.create({ model: CHAT, input: "Look it up", tools: [LOOKUP] });
    assert.equal(first.output.at(-1)?.type, "function_call");
    chat.script(() => ({ kind: "text", text: "It is 42." }));
    const res = await post("/v1/responses", {
      model: CHAT,
      previous_response_id: first.id,
      tools: [LOOKUP],
      input: [{ type: "function_call_output", name: "lookup", output: "42" }],
    });
    const second = (await res.json()) as { id: string; status: string };
    assert.equal(res.status, 200, JSON.stringify(second));
    assert.equal(second.status, "completed");
    const messages = (chat.requests.at(-1)?.body as { messages: Array<Record<string, unknown>> }).messages;
    assert.deepEqual(messages.at(-1), { role: "tool", tool_call_id: "call_lookup_1", content: "42" });
    const items = await client.responses.inputItems.list(second.id);
    const output = items.data.find((item) => item.type === "function_call_output");
    assert.equal(output?.type === "function_call_output" && output.call_id, "call_lookup_1");
  });

  it("goes to a Responses-native target as the client sent it", async () => {
    native.script(() => ({ kind: "answer", calls: [{ name: "lookup", arguments: '{"q":"x"}' }] }));
    const first = await client.responses.create({ model: NATIVE, input: "Look it up", tools: [LOOKUP] });
    native.script(() => ({ kind: "answer", text: "It is 42." }));
    const res = await post("/v1/responses", {
      model: NATIVE,
      previous_response_id: first.id,
      tools: [LOOKUP],
      input: [{ type: "function_call_output", name: "lookup", output: "42" }],
    });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = native.responseBodies.at(-1)?.input as Array<Record<string, unknown>>;
    assert.deepEqual(sent.at(-1), { type: "function_call_output", name: "lookup", output: "42" });
  });

  it("is a 400 when no call of its tool waits for an output, and one with neither call_id nor name still is", async () => {
    const unmatched = await post("/v1/responses", {
      model: CHAT,
      input: [
        { role: "user", content: "Hi" },
        { type: "function_call_output", name: "lookup", output: "42" },
      ],
    });
    assert.equal(unmatched.status, 400);
    const body = (await unmatched.json()) as { error: { param: string; message: string } };
    assert.equal(body.error.param, "input");
    assert.match(body.error.message, /no call of 'lookup' is waiting/);
    const nameless = await post("/v1/responses", {
      model: CHAT,
      input: [{ type: "function_call_output", output: "42" }],
    });
    assert.equal(nameless.status, 400);
    assert.equal(((await nameless.json()) as { error: { param: string } }).error.param, "input[0].call_id");
  });
});

describe("configuration_update input items (openai-node 7's ResponseConfigurationUpdateItemParam)", () => {
  const update = {
    type: "configuration_update",
    reasoning: { effort: "low" },
    text: { format: { type: "json_object" } },
  };

  it("set the reasoning effort and text format of a chat target from that turn on, over the request's own", async () => {
    chat.script(() => ({ kind: "text", text: '{"answer":"json"}' }));
    const res = await post("/v1/responses", {
      model: CHAT,
      reasoning: { effort: "high" },
      input: [update, { role: "user", content: "Answer in JSON" }],
    });
    const first = (await res.json()) as { id: string };
    assert.equal(res.status, 200, JSON.stringify(first));
    assert.ok(!(res.headers.get("x-tandem-warnings") ?? "").includes("configuration_update"), "named as left out");
    const sent = chat.requests.at(-1)?.body as Record<string, unknown>;
    assert.equal(sent.reasoning_effort, "low");
    assert.deepEqual(sent.response_format, { type: "json_object" });
    // Still in effect on the next turn, from the stored history.
    const next = await post("/v1/responses", {
      model: CHAT,
      reasoning: { effort: "high" },
      previous_response_id: first.id,
      input: "And again",
    });
    assert.equal(next.status, 200);
    const again = chat.requests.at(-1)?.body as Record<string, unknown>;
    assert.equal(again.reasoning_effort, "low");
    assert.deepEqual(again.response_format, { type: "json_object" });
    assert.deepEqual(turnsSent(again), ["user:Answer in JSON", 'assistant:{"answer":"json"}', "user:And again"]);
  });

  it("go to a Responses-native target as sent", async () => {
    native.script(() => ({ kind: "answer", text: '{"answer":"json"}' }));
    const res = await post("/v1/responses", { model: NATIVE, input: [update, { role: "user", content: "Hi" }] });
    assert.equal(res.status, 200);
    const sent = native.responseBodies.at(-1)?.input as unknown[];
    assert.deepEqual(sent[0], update);
  });

  it("with a bad effort or format are a 400 naming the field", async () => {
    const badEffort = await post("/v1/responses", {
      model: CHAT,
      input: [
        { type: "configuration_update", reasoning: { effort: "extreme" } },
        { role: "user", content: "Hi" },
      ],
    });
    assert.equal(badEffort.status, 400);
    assert.equal(((await badEffort.json()) as { error: { param: string } }).error.param, "input[0].reasoning.effort");
    const badFormat = await post("/v1/responses", {
      model: CHAT,
      input: [
        { type: "configuration_update", text: { format: { type: "json_schema" } } },
        { role: "user", content: "Hi" },
      ],
    });
    assert.equal(badFormat.status, 400);
    assert.match(((await badFormat.json()) as { error: { param: string } }).error.param, /^input\[0\]\.text\.format/);
  });
});

describe("reasoning.effort 'max' (Shared.ReasoningEffort, in 6.49 and 7.60 alike)", () => {
  it("is taken, and crosses to a chat target as xhigh, OpenAI's highest, named", async () => {
    const res = await post("/v1/responses", { model: CHAT, input: "Think hard", reasoning: { effort: "max" } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((chat.requests.at(-1)?.body as Record<string, unknown>).reasoning_effort, "xhigh");
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /reasoning\.effort max \(xhigh sent instead\)/);
  });
});

describe("an mcp_call sent back with OpenAI's McpToolCallError object (openai-node 7; a string in 6.49)", () => {
  for (const [error, read] of [
    [{ type: "mcp_protocol_error", code: -32602, message: "Unknown tool" }, "Error: MCP protocol error -32602: Unknown tool"],
    [{ type: "http_error", code: 502, message: "Bad gateway" }, "Error: HTTP error 502: Bad gateway"],
    [{ type: "mcp_tool_execution_error", content: [{ type: "text", text: "disk full" }] }, "Error: disk full"],
    ["plain text", "Error: plain text"],
  ] as const) {
    it(`is read by a chat target's model as the error it was (${typeof error === "string" ? "string" : error.type})`, async () => {
      const res = await post("/v1/responses", {
        model: CHAT,
        input: [
          { role: "user", content: "Use the tool" },
          { type: "mcp_call", id: "mcp_1", server_label: "files", name: "read", arguments: "{}", error, status: "failed" },
          { role: "user", content: "What happened?" },
        ],
      });
      assert.equal(res.status, 200, await res.clone().text());
      const messages = (chat.requests.at(-1)?.body as { messages: Array<Record<string, unknown>> }).messages;
      const result = messages.find((m) => m.role === "tool");
      assert.equal(result?.content, read);
    });
  }
});

describe("request fields openai-node 7 added (access_programs, image, background_options, async tools)", () => {
  const fields = {
    access_programs: { cyber: "standard" },
    image: { context_compression: "auto" },
    background_options: { completion_window: "soonest" },
    tools: [{ ...LOOKUP, async: true }],
  };

  it("are named in x-tandem-warnings for a chat target, which is sent none of them", async () => {
    const res = await post("/v1/responses", { model: CHAT, input: "Hi", ...fields });
    assert.equal(res.status, 200, await res.clone().text());
    const warnings = res.headers.get("x-tandem-warnings") ?? "";
    for (const named of [
      "access_programs was not applied",
      "image was not applied",
      "background_options was not applied",
      "async on tools was not applied",
    ])
      assert.ok(warnings.includes(named), `${named}: ${warnings}`);
    const sent = chat.requests.at(-1)?.body as Record<string, unknown>;
    for (const field of ["access_programs", "image", "background_options"]) assert.ok(!(field in sent), field);
  });

  it("go to a Responses-native target as sent, but background_options, which tandem's own background runs make moot", async () => {
    const res = await post("/v1/responses", { model: NATIVE, input: "Hi", ...fields });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = native.responseBodies.at(-1) ?? {};
    assert.deepEqual(sent.access_programs, fields.access_programs);
    assert.deepEqual(sent.image, fields.image);
    assert.equal((sent.tools as Array<{ async?: unknown }>)[0]?.async, true);
    assert.ok(!("background_options" in sent), "the upstream would refuse background_options without background");
    assert.equal(
      res.headers.get("x-tandem-warnings"),
      "background_options was not applied: tandem runs background responses itself",
    );
  });
});

describe("image detail 'original' (openai-node 7's chat ImageURL.detail; the Responses API's ImageDetail)", () => {
  // An image is private unless the client says otherwise (privacy/): this one may go to the cloud.
  const PUBLIC = { "x-tandem-sensitivity": "public" };
  const image =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

  it("is taken by /v1/chat/completions and reaches a chat target as sent", async () => {
    const res = await post(
      "/v1/chat/completions",
      {
        model: CHAT,
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: image, detail: "original" } }] }],
      },
      PUBLIC,
    );
    assert.equal(res.status, 200, await res.clone().text());
    const sent = (chat.requests.at(-1)?.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }).messages;
    assert.deepEqual(sent.at(-1)?.content[0], { type: "image_url", image_url: { url: image, detail: "original" } });
  });

  it("of a Responses input_image reaches a chat target, not dropped", async () => {
    const res = await post(
      "/v1/responses",
      {
        model: CHAT,
        input: [{ role: "user", content: [{ type: "input_image", image_url: image, detail: "original" }] }],
      },
      PUBLIC,
    );
    assert.equal(res.status, 200, await res.clone().text());
    const sent = (chat.requests.at(-1)?.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }).messages;
    assert.deepEqual(sent.at(-1)?.content[0], { type: "image_url", image_url: { url: image, detail: "original" } });
  });
});
