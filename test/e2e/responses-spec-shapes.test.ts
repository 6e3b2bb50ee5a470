/**
 * Responses and Conversations objects as OpenAI's published OpenAPI spec (openai/openai-openapi,
 * `components.schemas`) and the openai SDK's types describe them, through a real tandem server with
 * the official openai SDK over a fake chat upstream: the fields a schema validator checking tandem's
 * answers against the spec found wrong, asserted field by field (no schema file in the repo).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "openai/gpt-4o-mini";
let upstream: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  upstream.script(() => ({ kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }));
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP"], local: false } } },
    { env: { UP: "sk-upstream" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

async function streamed(body: Record<string, unknown>): Promise<ResponseStreamEvent[]> {
  const stream = await client.responses.create({ model: MODEL, input: "Hi", ...body, stream: true });
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe("Response usage (ResponseUsage)", () => {
  it("has input_tokens_details.cache_write_tokens beside cached_tokens, as both the spec and the SDK require", async () => {
    const whole = await client.responses.create({ model: MODEL, input: "Hi" });
    assert.deepEqual(whole.usage?.input_tokens_details, { cached_tokens: 0, cache_write_tokens: 0 });
    const completed = (await streamed({})).at(-1);
    assert.equal(completed?.type, "response.completed");
    assert.deepEqual(completed?.type === "response.completed" && completed.response.usage?.input_tokens_details, {
      cached_tokens: 0,
      cache_write_tokens: 0,
    });
    assert.deepEqual((await client.responses.retrieve(whole.id)).usage?.input_tokens_details, {
      cached_tokens: 0,
      cache_write_tokens: 0,
    });
  });
});

describe("Response fields the spec types as non-nullable", () => {
  it("leaves usage out of a Response that has none yet (created, in_progress, queued) rather than null", async () => {
    const events = await streamed({});
    const early = events.filter((e) => e.type === "response.created" || e.type === "response.in_progress");
    assert.equal(early.length, 2);
    for (const event of early) {
      if (event.type !== "response.created" && event.type !== "response.in_progress") continue;
      assert.ok(!("usage" in event.response), `${event.type}: usage ${JSON.stringify(event.response.usage)}`);
    }
    const queued = await client.responses.create({ model: MODEL, input: "Later", background: true });
    if (queued.status === "queued" || queued.status === "in_progress") assert.ok(!("usage" in queued));
  });

  it("leaves user out when the request had none, and echoes it as a string when it had one", async () => {
    const without = await client.responses.create({ model: MODEL, input: "Hi" });
    assert.ok(!("user" in without), `user: ${JSON.stringify((without as { user?: unknown }).user)}`);
    const created = (await streamed({})).find((e) => e.type === "response.created");
    assert.ok(created?.type === "response.created" && !("user" in created.response));
    const withUser = await client.responses.create({ model: MODEL, input: "Hi", user: "user-1234" });
    assert.equal(withUser.user, "user-1234");
  });
});

describe("Conversation items (ConversationItem)", () => {
  it("gives an assistant message's output_text parts a logprobs array, as OutputTextContent requires", async () => {
    const conversation = await client.conversations.create({});
    const added = await client.conversations.items.create(conversation.id, {
      items: [
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Noted." } as never] },
        { type: "message", role: "assistant", content: "Plain." },
      ],
    });
    const expected = [
      [{ type: "output_text", text: "Noted.", annotations: [], logprobs: [] }],
      [{ type: "output_text", text: "Plain.", annotations: [], logprobs: [] }],
    ];
    assert.deepEqual(
      added.data.map((item) => (item.type === "message" ? item.content : null)),
      expected,
    );
    const listed = await client.conversations.items.list(conversation.id, { order: "asc" });
    assert.deepEqual(
      listed.data.map((item) => (item.type === "message" ? item.content : null)),
      expected,
    );
    const first = added.data[0];
    assert.ok(first?.id);
    const one = await client.conversations.items.retrieve(first.id, { conversation_id: conversation.id });
    assert.deepEqual(one.type === "message" && one.content, expected[0]);
  });
});
