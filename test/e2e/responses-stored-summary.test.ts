/**
 * A summary tandem stored for a history's older turns, after the turn that made it: the stored turns
 * stay whole wherever they fit (truncation "disabled", or a window that holds them), the summary
 * stands in for them only where the conversation must be cut, and said so; deleting the item it
 * stands through leaves out nothing it does not stand for. With them, POST /v1/responses/compact's
 * own contract (OpenAI's compaction items kept and named, Responses errors, a summarizer whose
 * window is too small) and input_tokens under truncation "auto".
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const SUMMARY = "The user asked about the Oslo trip budget; it was settled at 1200 EUR.";
const OLD = "Let us plan the Oslo trip. ".repeat(120);

let small: FakeOpenAIUpstream;
let big: FakeOpenAIUpstream;
let summarizer: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;

type WireMessage = { role: string; content?: unknown };
const sentMessages = (fake: FakeOpenAIUpstream): WireMessage[] =>
  ((fake.requests.at(-1)?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];
const sentText = (fake: FakeOpenAIUpstream): string => JSON.stringify(sentMessages(fake));
const CONTEXT_ERROR = {
  kind: "error" as const,
  status: 400,
  body: {
    error: {
      message: "This model's maximum context length is 300 tokens. However, your messages resulted in 900 tokens.",
      type: "invalid_request_error",
      param: "messages",
      code: "context_length_exceeded",
    },
  },
};

before(async () => {
  [small, big, summarizer] = await Promise.all([
    startFakeOpenAI({ models: ["m"] }),
    startFakeOpenAI({ models: ["m"] }),
    startFakeOpenAI({ models: ["s"] }),
  ]);
  tandem = await startTandem({
    providers: {
      small: { kind: "openai", baseUrl: small.url, models: { m: { contextWindow: 400 } } },
      big: { kind: "openai", baseUrl: big.url, models: { m: { contextWindow: 100_000 } } },
      sum: { kind: "openai", baseUrl: summarizer.url, models: { s: { contextWindow: 100_000 } } },
    },
    routes: {
      summarized: { tiers: ["small/m"], summarizer: "sum/s" },
      plain: { tiers: ["small/m"] },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([small?.close(), big?.close(), summarizer?.close()]);
});

beforeEach(() => {
  for (const fake of [small, big, summarizer]) fake.requests.length = 0;
  summarizer.script(() => ({ kind: "text", text: SUMMARY }));
  small.script(() => ({ kind: "text", text: "Noted." }));
  big.script(() => ({ kind: "text", text: "Noted." }));
});

/** A conversation whose oldest turn (OLD) was summarized on `summarized`, the next turn kept whole. */
async function summarizedConversation(): Promise<{ id: string; through: string }> {
  const conversation = await client.conversations.create({
    items: [
      { type: "message", role: "user", content: OLD },
      { type: "message", role: "assistant", content: "Happy to help with Oslo." },
      { type: "message", role: "user", content: "Middle question about hotels" },
      { type: "message", role: "assistant", content: "Middle answer: the Grand." },
    ],
  });
  const first = await client.responses
    .create({ model: "summarized", conversation: conversation.id, input: "Budget?", max_output_tokens: 50, truncation: "auto" })
    .withResponse();
  assert.match(first.response.headers.get("x-tandem-degraded") ?? "", /history summarized by sum\/s: 2 older message\(s\)/);
  const items = await client.conversations.items.list(conversation.id, { order: "asc", limit: 100 });
  return { id: conversation.id, through: items.data[1]?.id as string };
}

describe("responses: a stored summary on later turns", () => {
  it("truncation disabled on a window that holds the history: every stored turn is sent, nothing degraded", async () => {
    const { id } = await summarizedConversation();
    const turn = await client.responses.create({ model: "big/m", conversation: id, input: "Turn B" }).withResponse();
    assert.equal(turn.data.status, "completed");
    assert.equal(turn.response.headers.get("x-tandem-degraded"), "false");
    const sent = sentText(big);
    assert.match(sent, /Let us plan the Oslo trip/);
    assert.match(sent, /Middle question about hotels/);
    assert.doesNotMatch(sent, /Oslo trip budget/, "the summary does not replace turns that fit");
    // "auto" on the same window: nothing needs cutting, so nothing is.
    await client.responses.create({ model: "big/m", conversation: id, input: "Turn C", truncation: "auto" });
    assert.match(sentText(big), /Let us plan the Oslo trip/);
  });

  it("truncation disabled on a window too small for the history: OpenAI's context_length_exceeded, not the summary", async () => {
    const { id } = await summarizedConversation();
    await assert.rejects(
      client.responses.create({ model: "small/m", conversation: id, input: "Turn B", max_output_tokens: 50 }),
      (err: InstanceType<typeof OpenAI.APIError>) => err.status === 400 && err.code === "context_length_exceeded",
    );
  });

  it("deleting the item the summary stands through leaves out nothing it does not stand for", async () => {
    const { id, through } = await summarizedConversation();
    await client.conversations.items.delete(through, { conversation_id: id });
    const turn = await client.responses
      .create({ model: "plain", conversation: id, input: "After delete", max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.equal(turn.data.status, "completed");
    const sent = sentText(small);
    assert.match(sent, /Oslo trip budget/);
    assert.match(sent, /Middle question about hotels/);
    assert.match(sent, /Middle answer: the Grand/);
    assert.match(sent, /Budget\?/);
    assert.doesNotMatch(sent, /Let us plan the Oslo trip/);
    assert.match(
      turn.response.headers.get("x-tandem-degraded") ?? "",
      /history summarized by sum\/s: 1 older message\(s\) \(stored summary/,
    );
  });

  it("input_tokens with truncation auto counts what would be sent", async () => {
    const { id } = await summarizedConversation();
    const whole = await client.responses.inputTokens.count({ model: "plain", conversation: id, input: "Next" });
    const cut = await client.responses.inputTokens.count({ model: "plain", conversation: id, input: "Next", truncation: "auto" });
    assert.ok(whole.input_tokens > 400, `whole ${whole.input_tokens}`);
    assert.ok(cut.input_tokens < 400, `cut ${cut.input_tokens}`);
  });
});

describe("responses: compact", () => {
  it("keeps OpenAI's own compaction items in output and names them", async () => {
    const { data, response } = await client.responses
      .compact({
        model: "big/m",
        input: [
          { role: "user", content: "earlier q" },
          { type: "compaction", id: "cmp_openai1", encrypted_content: "gAAAAopaque-openai-blob" },
          { role: "user", content: "q" },
          { role: "assistant", content: "a" },
        ],
      })
      .withResponse();
    const output = data.output as Array<{ type: string; id?: string }>;
    assert.deepEqual(
      output.map((i) => i.type),
      ["message", "compaction", "message", "compaction"],
    );
    assert.equal(output[1]?.id, "cmp_openai1");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /compaction.*not made by tandem/);
  });

  it("errors are the Responses API's (param input)", async () => {
    big.script(() => ({
      kind: "error",
      status: 400,
      body: { error: { message: "Invalid messages", type: "invalid_request_error", param: "messages", code: "invalid_value" } },
    }));
    await assert.rejects(
      client.responses.compact({ model: "big/m", input: [{ role: "user", content: "q" }] }),
      (err: InstanceType<typeof OpenAI.APIError>) => err.status === 400 && err.param === "input",
    );
    big.script(() => CONTEXT_ERROR);
    await assert.rejects(
      client.responses.compact({ model: "big/m", input: [{ role: "user", content: "q" }] }),
      (err: InstanceType<typeof OpenAI.APIError>) =>
        err.status === 400 && err.param === "input" && err.code === "context_length_exceeded",
    );
  });

  it("a summarizer whose window cannot hold the conversation summarizes it in pieces", async () => {
    // The fake refuses a transcript longer than about two turns, as a small model's window would.
    let n = 0;
    big.script((request) => {
      if (JSON.stringify(request.body).length > 1500) return CONTEXT_ERROR;
      n++;
      return { kind: "text", text: `Summary part ${n}.` };
    });
    const input = [];
    for (let i = 0; i < 6; i++) {
      input.push(
        { role: "user" as const, content: `q${i} ${"word ".repeat(60)}` },
        { role: "assistant" as const, content: "ok" },
      );
    }
    const { data, response } = await client.responses.compact({ model: "big/m", input }).withResponse();
    const output = data.output as Array<{ type: string }>;
    assert.equal(output.at(-1)?.type, "compaction");
    assert.ok(n > 1, `answered in ${n} pieces`);
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /summarized in \d+ pieces/);
    // Each later piece builds on the summary so far.
    assert.match(JSON.stringify(big.requests.at(-1)?.body), /Summary so far:/);
  });
});

describe("responses: a route's summarizer with a small window", () => {
  it("summarizes a cut larger than its window in pieces", async () => {
    let n = 0;
    summarizer.script((request) => {
      if (JSON.stringify(request.body).length > 2500) return CONTEXT_ERROR;
      n++;
      return { kind: "text", text: `Piece ${n} summary.` };
    });
    const items = [];
    for (let i = 0; i < 4; i++) {
      items.push(
        { type: "message" as const, role: "user" as const, content: `Turn ${i}: ${"plan ".repeat(150)}` },
        { type: "message" as const, role: "assistant" as const, content: "ok" },
      );
    }
    const conversation = await client.conversations.create({ items });
    const turn = await client.responses
      .create({ model: "summarized", conversation: conversation.id, input: "Now?", max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.match(turn.response.headers.get("x-tandem-degraded") ?? "", /history summarized by sum\/s/);
    assert.ok(n > 1, `answered in ${n} pieces`);
  });
});
