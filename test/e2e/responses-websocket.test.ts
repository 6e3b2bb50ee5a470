/**
 * The Responses API's WebSocket mode (GET /v1/responses, Upgrade: websocket) through a real tandem
 * server: the openai SDK's ResponsesWS and a bare `ws` client. Each `response.create` is answered with
 * the events POST /v1/responses streams; a `store: false` chain continues on the connection; a
 * `generate: false` warm-up can be continued from; errors are OpenAI's error events and leave the
 * connection open; the upgrade passes the same Host, Origin and key checks as any request; a closed
 * socket cancels the upstream.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { ResponsesWS } from "openai/resources/responses/ws";
import WebSocket from "ws";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { MAX_RESPONSE_SOCKETS } from "../../src/server/responses-socket.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { connectResponsesSocket as connect } from "../support/responses-socket-client.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let keyed: RunningTandem;
let client: OpenAI;

const MODEL = "openai/gpt-4o-mini";

before(async () => {
  [openai, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  const providers = {
    openai: { kind: "openai" as const, baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
    anthropic: { kind: "anthropic" as const, baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
  };
  const env = { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" };
  tandem = await startTandem({ providers }, { env, state: new MemoryStateStore() });
  keyed = await startTandem({ providers }, { env, state: new MemoryStateStore(), clientKeys: ["tandem-client-key"] });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await Promise.all([tandem?.close(), keyed?.close()]);
  await Promise.all([openai?.close(), anthropic?.close()]);
});

beforeEach(() => {
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  openai.script((request) => {
    const messages = (request.body as { messages: { role: string; content: unknown }[] }).messages;
    return {
      kind: "text",
      text: `Turn ${messages.filter((m) => m.role === "user").length} answered.`,
      usage: { input: 20, output: 4 },
    };
  });
});

const userTexts = (body: unknown) =>
  (body as { messages: { role: string; content: unknown }[] }).messages
    .filter((m) => m.role === "user" || m.role === "assistant")
    .map((m) => `${m.role}:${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`);

describe("Responses WebSocket mode", () => {
  it("answers response.create through the openai SDK's ResponsesWS with the events POST /v1/responses streams", async () => {
    const ws = new ResponsesWS(client);
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    ws.send({ type: "response.create", model: MODEL, input: "Hello over a socket" });
    for await (const message of ws.stream()) {
      if (message.type === "error") assert.fail(String(message.error));
      if (message.type !== "message") continue;
      types.push(message.message.type);
      if (message.message.type === "response.completed") {
        completed = message.message.response;
        break;
      }
    }
    ws.close();
    assert.ok(completed);
    assert.equal(completed.status, "completed");
    // (output_text is the SDK's convenience on HTTP answers only.)
    assert.deepEqual(
      completed.output.flatMap((item) =>
        item.type === "message" ? item.content.map((part) => (part.type === "output_text" ? part.text : "")) : [],
      ),
      ["Turn 1 answered."],
    );
    assert.equal(completed.model, MODEL);
    // The same events, in the same order, as the HTTP stream of the same request.
    const http = await client.responses.create({ model: MODEL, input: "Hello over a socket", stream: true });
    const httpTypes: string[] = [];
    for await (const event of http) httpTypes.push(event.type);
    assert.deepEqual(types, httpTypes);
    // A stored response, retrievable over HTTP like any other.
    const retrieved = await client.responses.retrieve(completed.id);
    assert.equal(retrieved.output_text, "Turn 1 answered.");
  });

  it("continues a store: false chain on the connection with only the new input, as OpenAI's connection-local state does", async () => {
    const { socket, turn } = await connect(tandem.url);
    const first = await turn({ type: "response.create", model: MODEL, store: false, input: "First question" });
    const done = first.find((m) => m.type === "response.completed") as { response: { id: string; store: boolean } };
    assert.equal(done.response.store, false);
    const second = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      previous_response_id: done.response.id,
      input: [{ type: "message", role: "user", content: "Second question" }],
    });
    const secondDone = second.find((m) => m.type === "response.completed") as { response: { id: string } };
    assert.ok(secondDone, JSON.stringify(second));
    assert.deepEqual(userTexts(openai.requests[1]?.body), [
      "user:First question",
      "assistant:Turn 1 answered.",
      "user:Second question",
    ]);
    // A third turn builds on the second, still not stored anywhere.
    await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      previous_response_id: secondDone.response.id,
      input: "Third",
    });
    assert.equal(userTexts(openai.requests[2]?.body).length, 5);
    await assert.rejects(client.responses.retrieve(secondDone.response.id), OpenAI.NotFoundError);
    // Over HTTP, as on OpenAI, the unstored response cannot be continued.
    await assert.rejects(
      client.responses.create({ model: MODEL, previous_response_id: secondDone.response.id, input: "x" }),
      OpenAI.BadRequestError,
    );
    socket.close();
  });

  it("echoes the previous_response_id the client sent when it continues the connection's chain (events, store, warm-up)", async () => {
    const { socket, turn } = await connect(tandem.url);
    const idOf = (events: unknown[]) =>
      (events.find((m) => (m as { type: string }).type === "response.completed") as { response: { id: string } }).response.id;
    const previousIds = (events: unknown[]) =>
      events
        .map((m) => (m as { response?: { previous_response_id?: unknown } }).response)
        .filter((response) => response !== undefined)
        .map((response) => response.previous_response_id);
    const first = idOf(await turn({ type: "response.create", model: MODEL, store: false, input: "First" }));
    // Continuing a response only the connection holds: every Response object names it.
    const second = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      previous_response_id: first,
      input: "Second",
    });
    assert.ok(previousIds(second).length >= 3, JSON.stringify(second));
    for (const id of previousIds(second)) assert.equal(id, first);
    // A stored turn continuing the connection's chain: its stored Response names it too.
    const secondId = idOf(second);
    const third = await turn({ type: "response.create", model: MODEL, previous_response_id: secondId, input: "Third" });
    for (const id of previousIds(third)) assert.equal(id, secondId);
    const stored = await client.responses.retrieve(idOf(third));
    assert.equal(stored.previous_response_id, secondId);
    // Past a stored response, the connection sends its id on as the chain's start: the client's is echoed.
    const fourth = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      previous_response_id: idOf(third),
      input: "4",
    });
    const fifth = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      previous_response_id: idOf(fourth),
      input: "5",
    });
    for (const id of previousIds(fifth)) assert.equal(id, idOf(fourth));
    // A warm-up continuing the chain says so as well.
    const warm = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      generate: false,
      previous_response_id: idOf(fifth),
      input: "warm",
    });
    for (const id of previousIds(warm)) assert.equal(id, idOf(fifth));
    socket.close();
  });

  it("continues a stored chain by previous_response_id, the store's history", async () => {
    const { socket, turn } = await connect(tandem.url);
    const first = await turn({ type: "response.create", model: MODEL, input: "Stored first" });
    const id = (first.find((m) => m.type === "response.completed") as { response: { id: string } }).response.id;
    await turn({ type: "response.create", model: MODEL, previous_response_id: id, input: "Stored second" });
    assert.deepEqual(userTexts(openai.requests[1]?.body), [
      "user:Stored first",
      "assistant:Turn 1 answered.",
      "user:Stored second",
    ]);
    socket.close();
  });

  it("warms up with generate: false (nothing sent upstream) and continues from the warm-up's id", async () => {
    const { socket, turn } = await connect(tandem.url);
    const warm = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      generate: false,
      instructions: "Be brief.",
      input: [{ type: "message", role: "user", content: "Context to keep" }],
    });
    assert.deepEqual(
      warm.map((m) => m.type),
      ["response.created", "response.completed"],
    );
    const response = (warm[1] as { response: { id: string; status: string; output: unknown[]; usage: { total_tokens: number } } })
      .response;
    assert.equal(response.status, "completed");
    assert.deepEqual(response.output, []);
    assert.equal(response.usage.total_tokens, 0);
    assert.equal(openai.requests.length, 0);
    await turn({ type: "response.create", model: MODEL, store: false, previous_response_id: response.id, input: "Now answer" });
    assert.deepEqual(userTexts(openai.requests[0]?.body), ["user:Context to keep", "user:Now answer"]);
    socket.close();
  });

  it("answers errors as OpenAI's error events and keeps the connection open for the next turn", async () => {
    const { socket, turn, until, received } = await connect(tandem.url);
    const missing = await turn({ type: "response.create", model: MODEL, previous_response_id: "resp_nowhere", input: "x" });
    const error = missing.at(-1) as { type: string; status: number; error: { code: string; param: string } };
    assert.equal(error.type, "error");
    assert.equal(error.status, 400);
    assert.equal(error.error.code, "previous_response_not_found");
    assert.equal(error.error.param, "previous_response_id");

    const unknownModel = await turn({ type: "response.create", model: "nope/none", input: "x" });
    assert.equal((unknownModel.at(-1) as { status: number }).status, 404);

    for (const [event, param] of [
      [{ type: "session.update" }, "type"],
      [{ type: "response.create", model: MODEL, input: "x", background: true }, "background"],
      [{ type: "response.create", model: MODEL, input: [{ type: "nonsense" }] }, "input"],
    ] as const) {
      const answer = await turn(event);
      const last = answer.at(-1) as { type: string; status: number; error: { param: string } };
      assert.equal(last.type, "error", JSON.stringify(answer));
      assert.equal(last.status, 400);
      assert.ok(String(last.error.param).startsWith(param), JSON.stringify(last));
    }
    const from = received.length;
    socket.send("{not json");
    const bad = await until(["error"], from);
    assert.equal((bad.at(-1) as { error: { code: string } }).error.code, "invalid_json");

    // Codex acknowledges each response it read: accepted silently.
    socket.send(JSON.stringify({ type: "response.processed", response_id: "resp_x" }));
    const after = await turn({ type: "response.create", model: MODEL, input: "Still here?" });
    assert.equal(after.at(-1)?.type, "response.completed");
    assert.equal(openai.requests.length, 1);
    socket.close();
  });

  it("answers turns sent back to back one at a time, in order", async () => {
    const { socket, received } = await connect(tandem.url);
    for (const text of ["one", "two", "three"])
      socket.send(JSON.stringify({ type: "response.create", model: MODEL, input: text }));
    const deadline = Date.now() + 10_000;
    while (received.filter((m) => m.type === "response.completed").length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const created = received.filter((m) => m.type === "response.created").length;
    assert.equal(created, 3);
    // Each turn's events are contiguous: no turn starts before the one before it completes.
    const order = received.filter((m) => m.type === "response.created" || m.type === "response.completed").map((m) => m.type);
    assert.deepEqual(order, [
      "response.created",
      "response.completed",
      "response.created",
      "response.completed",
      "response.created",
      "response.completed",
    ]);
    assert.deepEqual(
      openai.requests.map((r) => userTexts(r.body).at(-1)),
      ["user:one", "user:two", "user:three"],
    );
    socket.close();
  });

  it("checks the upgrade as any request: a foreign web page, a missing key and a wrong path are refused before the socket opens", async () => {
    const refused = (url: string, headers: Record<string, string>, path = "/v1/responses") =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = new WebSocket(`${url.replace(/^http/, "ws")}${path}`, { headers });
        socket.once("open", () => reject(new Error("the socket opened")));
        socket.once("unexpected-response", (_request, response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        });
        socket.once("error", () => undefined);
      });
    const page = await refused(tandem.url, { origin: "https://evil.example" });
    assert.equal(page.status, 403);
    assert.match(JSON.parse(page.body).error.message, /Origin 'https:\/\/evil\.example' is not allowed/);
    const noKey = await refused(keyed.url, {});
    assert.equal(noKey.status, 401);
    assert.equal(JSON.parse(noKey.body).error.type, "invalid_request_error");
    const wrongPath = await refused(tandem.url, {}, "/v1/chat/completions");
    assert.equal(wrongPath.status, 404);
    // With the key, in a header as the SDKs send it, the socket opens and turns are answered.
    const { socket, turn } = await connect(keyed.url, { authorization: "Bearer tandem-client-key" });
    const answer = await turn({ type: "response.create", model: MODEL, input: "Keyed" });
    assert.equal(answer.at(-1)?.type, "response.completed");
    socket.close();
    assert.equal(openai.requests.length, 1, "no refused upgrade reached the upstream");
  });

  it("cancels the upstream when the client closes the socket mid-answer", async () => {
    anthropic.script(() => ({ kind: "hang", chunks: ["Thinking", " slowly"] }));
    const { socket, until } = await connect(tandem.url);
    socket.send(JSON.stringify({ type: "response.create", model: "anthropic/claude-haiku-4-5", input: "Take your time" }));
    await until(["response.output_text.delta"]);
    const before = anthropic.clientAborts;
    socket.close();
    const deadline = Date.now() + 5000;
    while (anthropic.clientAborts === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(anthropic.clientAborts, before + 1, "the upstream stream was closed");
  });

  it("bounds what clients can make it hold: messages waiting behind a turn, and open connections", async () => {
    const small = await startTandem(
      {
        providers: { anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] } },
        server: { bodyLimit: 64 * 1024 },
      },
      { env: { UP_ANTHROPIC: "sk-ant-upstream" }, state: new MemoryStateStore() },
    );
    try {
      anthropic.script(() => ({ kind: "hang", chunks: ["Busy"] }));
      const { socket, until, received } = await connect(small.url);
      socket.send(JSON.stringify({ type: "response.create", model: "anthropic/claude-haiku-4-5", input: "Hold on" }));
      await until(["response.output_text.delta"]);
      // Two messages of 40 KB behind the running turn: the first waits, the second would pass the
      // 64 KB the connection may hold waiting, and is refused with OpenAI's error event.
      const big = (tag: string) =>
        JSON.stringify({ type: "response.create", model: "anthropic/claude-haiku-4-5", input: `${tag} ${"x".repeat(40_000)}` });
      const from = received.length;
      socket.send(big("first"));
      socket.send(big("second"));
      const errors = (await until(["error"], from)).filter((m) => m.type === "error");
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.status, 429);
      assert.match(String((errors[0]?.error as { message: string }).message), /65536 bytes of events are waiting/);
      socket.close();

      // One connection past the cap is refused before it opens; closing one lets the next in.
      const open: WebSocket[] = [];
      const opening = (): Promise<WebSocket | number> =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`${small.url.replace(/^http/, "ws")}/v1/responses`);
          ws.once("open", () => resolve(ws));
          ws.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
          ws.once("error", reject);
        });
      // A socket that closed a moment ago may still count: a refused upgrade is tried again a little later.
      const openSoon = async (): Promise<WebSocket | number> => {
        let answer: WebSocket | number = 429;
        for (let tries = 0; tries < 50 && answer === 429; tries++) {
          if (tries > 0) await new Promise((r) => setTimeout(r, 20));
          answer = await opening();
        }
        return answer;
      };
      for (let i = 0; i < MAX_RESPONSE_SOCKETS; i++) {
        const ws = await openSoon();
        assert.ok(typeof ws !== "number", `connection ${i + 1} of ${MAX_RESPONSE_SOCKETS} is let in`);
        open.push(ws);
      }
      assert.equal(await opening(), 429);
      const first = open.shift() as WebSocket;
      first.close();
      const again = await openSoon();
      assert.ok(typeof again !== "number", "a connection is let in once another has closed");
      open.push(again);
      for (const ws of open) ws.close();
    } finally {
      await small.close();
    }
  });
});
