/**
 * Background responses (`background: true`) through a real tandem server with the official openai
 * SDK: answered at once as `queued`, run on their own, polled, streamed again from any sequence
 * number, cancelled (the upstream with them), stored as any response; a client leaving its stream
 * does not stop the run.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: OpenAI;

const MODEL = "openai/gpt-4o-mini";
const CLAUDE = "anthropic/claude-haiku-4-5";

before(async () => {
  [openai, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, state: new MemoryStateStore() },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

beforeEach(() => {
  openai.requests.length = 0;
  openai.script(() => ({ kind: "text", text: "Done in the background.", usage: { input: 12, output: 5 } }));
});

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const textOf = (response: OpenAI.Responses.Response) =>
  response.output
    .flatMap((item) => (item.type === "message" ? item.content.map((p) => (p.type === "output_text" ? p.text : "")) : []))
    .join("");

describe("background responses", () => {
  it("answers queued at once, runs the turn, and is retrieved completed and stored", async () => {
    const started = await client.responses.create({ model: MODEL, input: "Work on this", background: true });
    assert.equal(started.status, "queued");
    assert.equal(started.background, true);
    assert.deepEqual(started.output, []);
    let done = started;
    await until(async () => {
      done = await client.responses.retrieve(started.id);
      return done.status === "completed";
    }, "completion");
    assert.equal(done.id, started.id);
    assert.equal(done.background, true);
    assert.equal(textOf(done), "Done in the background.");
    assert.equal(done.usage?.output_tokens, 5);
    const items = await client.responses.inputItems.list(started.id);
    assert.equal(items.data.length, 1);
    // Continued from like any stored response.
    const next = await client.responses.create({ model: MODEL, previous_response_id: started.id, input: "And then?" });
    assert.equal(next.status, "completed");
    const sent = JSON.stringify(openai.requests.at(-1)?.body);
    assert.match(sent, /Work on this/);
    assert.match(sent, /Done in the background\./);
    // Cancelling a finished background response is OpenAI's 400.
    await assert.rejects(client.responses.cancel(started.id), /Cannot cancel a completed response\./);
  });

  it("streams as OpenAI streams a background response, and streams it again from any sequence number", async () => {
    const stream = await client.responses.create({ model: MODEL, input: "Stream it", background: true, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.slice(0, 3).map((e) => e.type),
      ["response.created", "response.queued", "response.in_progress"],
    );
    assert.equal(events.at(-1)?.type, "response.completed");
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const created = events[0] as OpenAI.Responses.ResponseCreatedEvent;
    assert.equal(created.response.status, "queued");
    const id = created.response.id;
    for (const event of events) {
      if ("response" in event) assert.equal(event.response.id, id);
    }
    const again = await client.responses.retrieve(id, { stream: true, starting_after: 2 });
    const resumed: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of again) resumed.push(event);
    assert.deepEqual(resumed, events.slice(3));
    await assert.rejects(
      client.responses.retrieve(id, { stream: true, starting_after: -3 } as never),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "starting_after",
    );
  });

  it("keeps running when its streaming client leaves, and cancelling it stops the upstream", async () => {
    anthropic.script(() => ({ kind: "hang", chunks: ["Working", " on it"] }));
    const aborts = anthropic.clientAborts;
    const controller = new AbortController();
    const stream = await client.responses.create(
      { model: CLAUDE, input: "A long task", background: true, stream: true },
      { signal: controller.signal },
    );
    let id = "";
    for await (const event of stream) {
      if (event.type === "response.created") id = event.response.id;
      if (event.type === "response.output_text.delta") break;
    }
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(anthropic.clientAborts, aborts, "leaving the stream does not stop the run");
    const running = await client.responses.retrieve(id);
    assert.equal(running.status, "in_progress");
    const cancelled = await client.responses.cancel(id);
    assert.equal(cancelled.status, "cancelled");
    await until(() => anthropic.clientAborts === aborts + 1, "the upstream to be closed");
    assert.equal((await client.responses.retrieve(id)).status, "cancelled");
    // Its events end; a late reader gets them all and the stream closes.
    const late = await client.responses.retrieve(id, { stream: true });
    const types: string[] = [];
    for await (const event of late) types.push(event.type);
    assert.ok(types.includes("response.output_text.delta"), types.join());
  });

  it("ends a cancelled run's streams with its cancelled Response, which openai-node's finalResponse() reports", async () => {
    anthropic.script(() => ({ kind: "hang", chunks: ["Working", " on it"] }));
    const stream = client.responses.stream({ model: CLAUDE, input: "Cancel me", background: true });
    const types: string[] = [];
    let id = "";
    let cancelling: Promise<OpenAI.Responses.Response> | undefined;
    stream.on("event", (event) => {
      types.push(event.type);
      if (event.type === "response.created") id = event.response.id;
      if (event.type === "response.output_text.delta") cancelling ??= client.responses.cancel(id);
    });
    const final = await stream.finalResponse();
    assert.equal((await cancelling)?.status, "cancelled");
    // The stream ends with the run's Response as it is kept: cancelled, its output as GET gives it.
    const stored = await client.responses.retrieve(id);
    assert.equal(stored.status, "cancelled");
    assert.equal(final.status, "cancelled");
    // The message it had streamed is in it, closed incomplete (the SDK adds `parsed` to the text parts it accumulates).
    const unparsed = JSON.parse(JSON.stringify(final.output, (key, value) => (key === "parsed" ? undefined : value)));
    assert.deepEqual(unparsed, stored.output);
    assert.equal(stored.output[0]?.type === "message" && stored.output[0].status, "incomplete");
    assert.match(JSON.stringify(stored.output), /Working/);
    assert.ok(types.includes("response.output_item.done"), types.join());
    assert.equal(types.at(-1), "response.incomplete");
    assert.equal(types.filter((type) => type === "response.incomplete").length, 1, types.join());
    // Streamed again, it ends the same way (openai-node's stream by id, and the raw replay).
    const again = await client.responses.stream({ response_id: id }).finalResponse();
    assert.equal(again.status, "cancelled");
    const replay = await client.responses.retrieve(id, { stream: true, starting_after: 0 });
    const replayed: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of replay) replayed.push(event);
    const last = replayed.at(-1);
    assert.equal(last?.type, "response.incomplete");
    assert.equal(last?.type === "response.incomplete" && last.response.status, "cancelled");
    assert.deepEqual(
      replayed.map((e) => e.sequence_number),
      replayed.map((_, i) => i + 1),
    );
  });

  it("ends failed when every target fails, and says why", async () => {
    openai.script(() => ({ kind: "error", status: 400, message: "This model cannot do that" }));
    const started = await client.responses.create({ model: MODEL, input: "Fail", background: true });
    let done = started;
    await until(async () => {
      done = await client.responses.retrieve(started.id);
      return done.status === "failed";
    }, "failure");
    assert.ok(done.error?.message, JSON.stringify(done));
    // The refusal's own code (here a 400's) is not one of ResponseError.code's values (the spec's
    // enum, the SDK's union): a failed Response says server_error, its message saying why.
    assert.equal(done.error?.code, "server_error");
    assert.match(done.error?.message ?? "", /This model cannot do that/);
  });

  it("keeps a cancelled or failed run's input and chain: its input items list them, a follow-up is sent them", async () => {
    const first = await client.responses.create({ model: MODEL, input: "First turn ALPHA" });
    const ended = async (start: () => Promise<string>, status: string) => {
      const id = await start();
      await until(async () => (await client.responses.retrieve(id)).status === status, status);
      return id;
    };
    anthropic.script(() => ({ kind: "hang", chunks: ["Working"] }));
    const cancelled = await ended(async () => {
      const run = await client.responses.create({
        model: CLAUDE,
        input: "Second turn BRAVO",
        background: true,
        previous_response_id: first.id,
      });
      await until(async () => (await client.responses.retrieve(run.id)).status === "in_progress", "the run to start");
      await client.responses.cancel(run.id);
      return run.id;
    }, "cancelled");
    openai.script(() => ({ kind: "error", status: 400, message: "This model cannot do that" }));
    const failed = await ended(
      async () =>
        (
          await client.responses.create({
            model: MODEL,
            input: "Third turn CHARLIE",
            background: true,
            previous_response_id: cancelled,
          })
        ).id,
      "failed",
    );
    const listed = await client.responses.inputItems.list(failed, { order: "asc" });
    assert.deepEqual(
      listed.data
        .map((item) => (item.type === "message" ? JSON.stringify(item.content) : item.type))
        .map((t) => t.match(/[A-Z]{4,}/)?.[0]),
      // The cancelled run's output is what it had streamed ("Working", closed incomplete).
      ["ALPHA", undefined, "BRAVO", undefined, "CHARLIE"],
    );
    openai.script(() => ({ kind: "text", text: "Carried on." }));
    await client.responses.create({ model: MODEL, input: "Fourth turn DELTA", previous_response_id: failed });
    const sent = JSON.stringify(openai.requests.at(-1)?.body);
    for (const word of ["ALPHA", "BRAVO", "CHARLIE", "DELTA"]) assert.match(sent, new RegExp(word));
  });

  it("refuses at once what cannot run: store false, an unknown model; and ignores a forged run header", async () => {
    await assert.rejects(
      client.responses.create({ model: MODEL, input: "x", background: true, store: false }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "store",
    );
    await assert.rejects(client.responses.create({ model: "nope/none", input: "x", background: true }), OpenAI.NotFoundError);
    const forged = await client.responses.create(
      { model: MODEL, input: "x", background: true },
      { headers: { "x-tandem-background-run": "guess resp_forged" } },
    );
    assert.equal(forged.status, "queued");
    assert.notEqual(forged.id, "resp_forged");
    await until(
      async () => (await client.responses.retrieve(forged.id)).status === "completed",
      "the forged one to run normally",
    );
  });
});

describe("background responses in the store", () => {
  it("are known from their start: after a restart a cancelled run is cancelled, one that was running is failed, a finished one as it ended", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-background-store-"));
    const key = randomBytes(32);
    const config = {
      providers: {
        openai: { kind: "openai" as const, baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic" as const, baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
      },
    };
    const options = { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, store: { key }, dataDir };
    let server = await startTandem(config, options);
    let sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      const done = await sdk.responses.create({ model: MODEL, input: "Quick one", background: true });
      await until(async () => (await sdk.responses.retrieve(done.id)).status === "completed", "the quick one");

      anthropic.script(() => ({ kind: "hang", chunks: ["Still", " going"] }));
      const cancelled = await sdk.responses.create({ model: CLAUDE, input: "Cancel me", background: true });
      await until(async () => (await sdk.responses.retrieve(cancelled.id)).status === "in_progress", "the run to start");
      assert.equal((await sdk.responses.cancel(cancelled.id)).status, "cancelled");
      const running = await sdk.responses.create({ model: CLAUDE, input: "Long task", background: true });
      await until(async () => (await sdk.responses.retrieve(running.id)).status === "in_progress", "the second run to start");
      // While it runs, it cannot be continued from: its items are not stored yet.
      await assert.rejects(
        sdk.responses.create({ model: MODEL, input: "And then?", previous_response_id: running.id }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "previous_response_id",
      );
      // Let the cancelled run's end reach the store before the server stops.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await server.close();

      server = await startTandem(config, options);
      sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const finished = await sdk.responses.retrieve(done.id);
      assert.equal(finished.status, "completed");
      assert.equal(textOf(finished), "Done in the background.");
      assert.equal((await sdk.responses.retrieve(cancelled.id)).status, "cancelled");
      const interrupted = await sdk.responses.retrieve(running.id);
      assert.equal(interrupted.status, "failed");
      assert.equal(interrupted.background, true);
      assert.equal(interrupted.error?.code, "server_error");
      assert.match(interrupted.error?.message ?? "", /tandem stopped/);
      // Cancelling what has ended is OpenAI's 400; and it stays as it was.
      await assert.rejects(sdk.responses.cancel(running.id), /Cannot cancel a failed response\./);
      assert.equal((await sdk.responses.retrieve(running.id)).status, "failed");
      // Its events went with the process that ran it.
      await assert.rejects(sdk.responses.retrieve(running.id, { stream: true }), OpenAI.BadRequestError);
      await sdk.responses.delete(running.id);
      await assert.rejects(sdk.responses.retrieve(running.id), OpenAI.NotFoundError);
    } finally {
      await server.close();
    }
  });

  it("reads one still queued in the store, which no run of this server answers (tandem was killed), as failed", async () => {
    const state = new MemoryStateStore();
    const id = "resp_killed0000000000000000000000000000000000000000";
    const queued = {
      id,
      object: "response",
      created_at: 1_700_000_000,
      status: "queued",
      background: true,
      model: MODEL,
      output: [],
    };
    await state.saveResponse({ id, createdAt: 1_700_000_000, response: queued, input: [], output: [] });
    const server = await startTandem({}, { state });
    try {
      const sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const read = await sdk.responses.retrieve(id);
      assert.equal(read.status, "failed");
      assert.deepEqual(read.error, {
        code: "server_error",
        message: "this background response did not finish in the store: tandem stopped, or its store could not save the end",
      });
      assert.equal((await state.getResponse(id))?.response.status, "failed", "saved so");
      await assert.rejects(sdk.responses.cancel(id), /Cannot cancel a failed response\./);
    } finally {
      await server.close();
    }
  });

  it("logs the run's turn with the id of the client's request that started it", async () => {
    const log: string[] = [];
    const server = await startTandem(
      { providers: { openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false } } },
      { env: { UP_OPENAI: "sk-upstream-openai" }, state: new MemoryStateStore(), log },
    );
    try {
      const sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const { data: started, response } = await sdk.responses
        .create({ model: MODEL, input: "Work on this", background: true })
        .withResponse();
      const clientRequestId = response.headers.get("x-request-id");
      assert.match(clientRequestId ?? "", /^req_/);
      await until(async () => (await sdk.responses.retrieve(started.id)).status === "completed", "completion");
      const lines = () => log.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === "request");
      await until(() => lines().some((l) => l.startedBy !== undefined), "the run's log line");
      const post = lines().find((l) => l.requestId === clientRequestId);
      const run = lines().find((l) => l.startedBy === clientRequestId);
      assert.ok(post, "the client's POST has its line");
      assert.ok(run, "the run's turn names the client's request");
      assert.notEqual(run.requestId, clientRequestId, "the turn keeps an id of its own");
      assert.equal(run.model, MODEL);
    } finally {
      await server.close();
    }
  });
});
