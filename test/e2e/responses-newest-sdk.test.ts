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

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
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
