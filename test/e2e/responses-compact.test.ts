/**
 * POST /v1/responses/compact through a real tandem server with the official openai SDK
 * (`client.responses.compact`): a conversation made short enough to continue — every user message,
 * then one compaction item — written by the model the request names, and continued from on any
 * target; after a stored response too, and compacted again.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

/** Everything an upstream was shown, as text. */
const shown = (request: RecordedRequest | undefined) => JSON.stringify(request?.body ?? {});

const history: ResponseInputItem[] = [
  { role: "user", content: "My name is Ada and I need the weather in Paris." },
  { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
  { type: "function_call_output", call_id: "call_1", output: "sunny, 21 C" },
  { role: "assistant", content: "It is sunny and 21 C in Paris." },
  { role: "user", content: "And tomorrow?" },
];

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
  for (const fake of [openai, anthropic]) {
    fake.requests.length = 0;
    fake.script(() => ({
      kind: "text",
      text: "Ada asked for the weather in Paris: sunny, 21 C.",
      usage: { input: 80, output: 14 },
    }));
  }
});

describe("POST /v1/responses/compact", () => {
  it("answers every user message then one compaction item, written by the named model from the whole conversation", async () => {
    const compacted = await client.responses.compact({ model: "openai/gpt-4o-mini", instructions: "Be brief.", input: history });
    assert.equal(compacted.object, "response.compaction");
    assert.match(compacted.id, /^resp_/);
    assert.ok(Math.abs(compacted.created_at - Date.now() / 1000) < 60);
    assert.deepEqual(compacted.usage, {
      input_tokens: 80,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 14,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 94,
    });
    const types = compacted.output.map((item) => (item.type === "message" ? `message:${item.role}` : item.type));
    assert.deepEqual(types, ["message:user", "message:user", "compaction"]);
    const compaction = compacted.output.at(-1) as {
      type: "compaction";
      id: string;
      encrypted_content: string;
      created_by?: string;
    };
    assert.match(compaction.id, /^cmp_/);
    assert.equal(compaction.created_by, "openai/gpt-4o-mini");
    assert.ok(!compaction.encrypted_content.includes("Paris"), "its content is opaque to the client");
    // The model was asked for a summary of every turn (the call and its result too), not the instructions.
    const asked = shown(openai.requests.at(-1));
    for (const part of ["Ada", "get_weather", "sunny, 21 C", "And tomorrow?"]) assert.ok(asked.includes(part), part);
    assert.ok(!asked.includes("Be brief."));
  });

  it("is continued from on another target: the summary and the user messages, without the turns it stands for", async () => {
    const compacted = await client.responses.compact({ model: "openai/gpt-4o-mini", input: history });
    anthropic.script(() => ({ kind: "text", text: "Tomorrow: rain.", usage: { input: 40, output: 3 } }));
    const next = await client.responses.create({
      model: "anthropic/claude-haiku-4-5",
      input: [...(compacted.output as ResponseInputItem[]), { role: "user", content: "Thanks. Umbrella?" }],
      store: false,
    });
    assert.equal(next.output_text, "Tomorrow: rain.");
    const sent = shown(anthropic.requests.at(-1));
    assert.ok(sent.includes("Ada asked for the weather in Paris: sunny, 21 C."), "the summary");
    assert.ok(sent.includes("And tomorrow?") && sent.includes("Umbrella?"), "the user messages");
    assert.ok(!sent.includes("get_weather") && !sent.includes("It is sunny and 21 C"), "not the turns it stands for");
  });

  it("stored in a conversation (created with it, or its items added), is read back in its place as when sent inline", async () => {
    const compacted = await client.responses.compact({ model: "openai/gpt-4o-mini", input: history });
    const output = compacted.output as ResponseInputItem[];
    const created = await client.conversations.create({ items: output as never });
    const added = await client.conversations.create({});
    await client.conversations.items.create(added.id, { items: output as never });
    for (const conversation of [created.id, added.id]) {
      anthropic.script(() => ({ kind: "text", text: "Tomorrow: rain.", usage: { input: 40, output: 3 } }));
      const { response } = await client.responses
        .create({ model: "anthropic/claude-haiku-4-5", conversation, input: "Thanks. Umbrella?" })
        .withResponse();
      const sent = shown(anthropic.requests.at(-1));
      assert.ok(sent.includes("Ada asked for the weather in Paris: sunny, 21 C."), `the summary: ${sent}`);
      assert.ok(sent.indexOf("And tomorrow?") < sent.indexOf("Ada asked for"), "in its place, after the messages it kept");
      assert.ok(sent.includes("Umbrella?"));
      assert.equal(response.headers.get("x-tandem-warnings"), null);
    }
  });

  it("compacts a stored conversation by previous_response_id, and a compacted one again from its summary", async () => {
    openai.script(() => ({ kind: "text", text: "Noted, Ada.", usage: { input: 10, output: 3 } }));
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: "My name is Ada." });
    openai.script(() => ({ kind: "text", text: "The user is called Ada.", usage: { input: 30, output: 6 } }));
    const compacted = await client.responses.compact({ model: "openai/gpt-4o-mini", previous_response_id: first.id });
    assert.ok(shown(openai.requests.at(-1)).includes("Noted, Ada."), "the stored turns were summarized");
    assert.deepEqual(
      compacted.output.map((item) => item.type),
      ["message", "compaction"],
    );
    const again = await client.responses.compact({
      model: "openai/gpt-4o-mini",
      input: [...(compacted.output as ResponseInputItem[]), { role: "user", content: "What is my name?" }],
    });
    const asked = shown(openai.requests.at(-1));
    assert.ok(asked.includes("Summary so far") && asked.includes("The user is called Ada."), "the earlier summary is built on");
    assert.equal(again.output.filter((item) => item.type === "compaction").length, 1, "one compaction item, the new one");
  });

  it("answers bad requests in OpenAI's shape: no model, nothing to compact, an unknown previous response", async () => {
    const failure = async (body: Record<string, unknown>) => {
      const res = await fetch(`${tandem.url}/v1/responses/compact`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, error: ((await res.json()) as { error: { message: string; param?: string } }).error };
    };
    const noModel = await failure({ input: "hi" });
    assert.equal(noModel.status, 400);
    assert.equal(noModel.error.param, "model");
    const nothing = await failure({ model: "openai/gpt-4o-mini" });
    assert.equal(nothing.status, 400);
    assert.equal(nothing.error.param, "input");
    const unknown = await failure({ model: "openai/gpt-4o-mini", previous_response_id: "resp_nope" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.error.message, /Previous response with id 'resp_nope' not found/);
    assert.equal(openai.requests.length, 0, "nothing reached the upstream");
  });
});
