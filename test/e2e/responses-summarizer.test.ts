/**
 * A route's `summarizer` through a real tandem, driven with the official `openai` SDK: when a stored
 * history (a conversation, a `previous_response_id` chain) must be cut to fit a target's window under
 * `truncation: "auto"`, the older turns are summarized by the summarizer (a fake upstream with a known
 * answer), the target gets the summary in their place, the summary is stored with the turn as a
 * `compaction` item (shown in conversation items and `input_items`) and reused on the next turn
 * without asking the summarizer again; when the summarizer fails, the cut is a plain truncation and
 * x-tandem-degraded says why.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const SUMMARY = "The user asked about the Oslo trip budget; it was settled at 1200 EUR.";

let small: FakeOpenAIUpstream;
let big: FakeOpenAIUpstream;
let summarizer: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;

type WireMessage = { role: string; content?: unknown };
const sentMessages = (fake: FakeOpenAIUpstream): WireMessage[] =>
  ((fake.requests.at(-1)?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];
const text = (m: WireMessage | undefined): string => (typeof m?.content === "string" ? m.content : JSON.stringify(m?.content));

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
      failover: { tiers: ["small/m", "big/m"], summarizer: "sum/s", retry: { attempts: 1, baseMs: 0, maxMs: 0 } },
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
});

const OLD = "Let us plan the Oslo trip. ".repeat(120);

describe("responses: a route's summarizer", () => {
  it("a conversation cut to fit: summarized, the summary sent in place of the old turns, stored, and reused next turn", async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: OLD },
        { type: "message", role: "assistant", content: "Happy to help with Oslo." },
      ],
    });
    const first = await client.responses
      .create({
        model: "summarized",
        conversation: conversation.id,
        input: "What was the budget?",
        max_output_tokens: 50,
        truncation: "auto",
      })
      .withResponse();
    assert.equal(first.data.status, "completed");
    assert.match(first.response.headers.get("x-tandem-degraded") ?? "", /history summarized by sum\/s: 2 older message\(s\)/);
    // The summarizer was asked once, with the turns left out.
    assert.equal(summarizer.requests.length, 1);
    assert.match(JSON.stringify(summarizer.requests[0]?.body), /Let us plan the Oslo trip/);
    // The target got the summary where the old turns were, then the new question.
    const sent = sentMessages(small);
    assert.deepEqual(
      sent.map((m) => m.role),
      ["system", "user"],
    );
    assert.match(text(sent[0]), new RegExp(SUMMARY.replace(/[.]/g, "\\.")));
    assert.doesNotMatch(JSON.stringify(sent), /Let us plan/);

    // Stored with the turn, as a compaction item.
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    const types = items.data.map((i) => i.type);
    assert.deepEqual(types, ["message", "message", "compaction", "message", "message"]);
    const compaction = items.data[2] as { type: string; encrypted_content: string; created_by?: string; id: string };
    assert.equal(compaction.created_by, "sum/s");
    assert.equal(typeof compaction.encrypted_content, "string");
    assert.match(compaction.id, /^cmp_/);

    // Next turn: the stored summary stands for the old turns; the summarizer is not asked again.
    const second = await client.responses
      .create({
        model: "summarized",
        conversation: conversation.id,
        input: "And the dates?",
        max_output_tokens: 50,
        truncation: "auto",
      })
      .withResponse();
    assert.equal(second.data.status, "completed");
    assert.equal(summarizer.requests.length, 1, "the same cut is summarized once");
    // The substitution is said, as on the turn that made the summary.
    assert.match(
      second.response.headers.get("x-tandem-degraded") ?? "",
      /history summarized by sum\/s: 2 older message\(s\) \(stored summary; conversation fitted to small\/m's 400-token window\)/,
    );
    const next = sentMessages(small);
    assert.deepEqual(
      next.map((m) => m.role),
      ["system", "user", "assistant", "user"],
    );
    assert.match(text(next[0]), /Oslo trip budget/);
    assert.match(text(next[1]), /What was the budget\?/);
    assert.match(text(next[3]), /And the dates\?/);
  });

  it("a previous_response_id chain: the summary is in the new response's input_items and carried down the chain", async () => {
    const long = await client.responses.create({ model: "big/m", input: OLD });
    const cut = await client.responses
      .create({ model: "summarized", previous_response_id: long.id, input: "Budget?", max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.match(cut.response.headers.get("x-tandem-degraded") ?? "", /history summarized by sum\/s/);
    // Its input items: the chain it continued (as OpenAI lists them), then the summary it made and its message.
    const inputItems = await client.responses.inputItems.list(cut.data.id, { order: "asc", limit: 100 });
    const chain = (await client.responses.inputItems.list(long.id, { order: "asc", limit: 100 })).data.map((i) => i.id);
    assert.deepEqual(inputItems.data.map((i) => i.id).slice(0, chain.length + 1), [...chain, long.output[0]?.id]);
    assert.deepEqual(
      inputItems.data.slice(chain.length + 1).map((i) => i.type),
      ["compaction", "message"],
    );
    const streamed = client.responses.stream({
      model: "summarized",
      previous_response_id: cut.data.id,
      input: "Dates?",
      max_output_tokens: 50,
      truncation: "auto",
    });
    const done = await streamed.finalResponse();
    assert.equal(done.status, "completed");
    assert.equal(summarizer.requests.length, 1);
    const sent = sentMessages(small);
    assert.match(text(sent[0]), /Oslo trip budget/);
    assert.doesNotMatch(JSON.stringify(sent), /Let us plan/);
    assert.match(text(sent.at(-1)), /Dates\?/);
  });

  it("a history that outgrows the window again: the new cut is summarized with the old summary, the newest stands for both", async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: OLD },
        { type: "message", role: "assistant", content: "ok" },
      ],
    });
    const ask = (input: string) =>
      client.responses
        .create({ model: "summarized", conversation: conversation.id, input, max_output_tokens: 50, truncation: "auto" })
        .withResponse();
    await ask("Budget?");
    assert.equal(summarizer.requests.length, 1);
    summarizer.script(() => ({ kind: "text", text: "Second summary: budget 1200 EUR, hotels booked." }));
    const second = await ask(`Hotels: ${"Grand Hotel, ".repeat(60)}`);
    // The long turn is the newest: it stays (it fits the window with room for the answer, as it must:
    // a newest turn over the window is refused, not sent); nothing older needs cutting beyond the summary.
    assert.equal(second.data.status, "completed");
    const third = await ask(`And the dates? ${"Please list them. ".repeat(40)}`);
    assert.match(third.response.headers.get("x-tandem-degraded") ?? "", /history summarized by sum\/s/);
    assert.equal(summarizer.requests.length, 2);
    // The second summarizer request carried the first summary along with the turns newly left out.
    const asked = JSON.stringify(summarizer.requests[1]?.body);
    assert.match(asked, /Summary so far:.*Oslo trip budget/);
    assert.match(asked, /Grand Hotel/);
    const sent = sentMessages(small);
    assert.match(text(sent[0]), /Second summary/);
    assert.doesNotMatch(JSON.stringify(sent), /Oslo trip budget|Grand Hotel|Let us plan/);
    // Both summaries are stored; the target is given only the newest.
    const items = await client.conversations.items.list(conversation.id, { order: "asc", limit: 100 });
    assert.equal(items.data.filter((i) => i.type === "compaction").length, 2);
    const fourth = await ask("Thanks");
    assert.equal(summarizer.requests.length, 2);
    assert.equal(fourth.data.status, "completed");
    assert.match(text(sentMessages(small)[0]), /Second summary/);
  });

  it("a tandem compaction item sent back as input is read as the summary it holds", async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: OLD },
        { type: "message", role: "assistant", content: "ok" },
      ],
    });
    await client.responses.create({
      model: "summarized",
      conversation: conversation.id,
      input: "Budget?",
      max_output_tokens: 50,
      truncation: "auto",
    });
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    const compaction = items.data.find((i) => i.type === "compaction") as { type: "compaction"; encrypted_content: string };
    await client.responses.create({
      model: "big/m",
      input: [
        { type: "compaction", encrypted_content: compaction.encrypted_content },
        { role: "user", content: "Where were we?" },
      ],
    });
    const sent = sentMessages(big);
    assert.deepEqual(
      sent.map((m) => m.role),
      ["system", "user"],
    );
    assert.match(text(sent[0]), /Oslo trip budget/);
  });

  it("a summary made for a target that then fails is not stored when the next target needed no cut", async () => {
    small.script(() => ({ kind: "error", status: 500, message: "down" }));
    const conversation = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: OLD },
        { type: "message", role: "assistant", content: "ok" },
      ],
    });
    const { data } = await client.responses
      .create({ model: "failover", conversation: conversation.id, input: "Budget?", max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.equal(data.model, "big/m");
    assert.equal(summarizer.requests.length, 1, "the summary was made for small/m");
    assert.match(JSON.stringify(sentMessages(big)), /Let us plan the Oslo trip/);
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    assert.ok(!items.data.some((i) => i.type === "compaction"));
  });

  it("a summarizer that fails: the turns are left out unsummarized, the header says why, nothing is stored", async () => {
    summarizer.script(() => ({ kind: "error", status: 500, message: "boom" }));
    const conversation = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: OLD },
        { type: "message", role: "assistant", content: "ok" },
      ],
    });
    const { data, response } = await client.responses
      .create({ model: "summarized", conversation: conversation.id, input: "Budget?", max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.equal(data.status, "completed");
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /conversation fitted to small\/m's 400-token window: 2 older message\(s\) left out \(no summary: the summarizer failed: /,
    );
    assert.ok(summarizer.requests.length >= 1);
    assert.deepEqual(
      sentMessages(small).map((m) => m.role),
      ["user"],
    );
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    assert.ok(!items.data.some((i) => i.type === "compaction"));
  });

  it("a route without a summarizer, or a request without stored history, still truncates plainly", async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: OLD },
        { type: "message", role: "assistant", content: "ok" },
      ],
    });
    const plain = await client.responses
      .create({ model: "plain", conversation: conversation.id, input: "Budget?", max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.match(plain.response.headers.get("x-tandem-degraded") ?? "", /2 older message\(s\) left out$/);
    const inline = await client.responses
      .create({
        model: "summarized",
        input: [
          { role: "user", content: OLD },
          { role: "assistant", content: "ok" },
          { role: "user", content: "Budget?" },
        ],
        max_output_tokens: 50,
        truncation: "auto",
      })
      .withResponse();
    assert.match(inline.response.headers.get("x-tandem-degraded") ?? "", /2 older message\(s\) left out$/);
    assert.equal(summarizer.requests.length, 0);
  });
});

describe("responses: a route's summarizer, with the encrypted store", () => {
  it("counts the summarizer's tokens in the usage table, beside the client's request", async () => {
    const stored = await startTandem(
      {
        providers: {
          small: { kind: "openai", baseUrl: small.url, models: { m: { contextWindow: 400 } } },
          sum: { kind: "openai", baseUrl: summarizer.url, models: { s: { contextWindow: 100_000 } } },
        },
        routes: { summarized: { tiers: ["small/m"], summarizer: "sum/s" } },
      },
      { store: true },
    );
    try {
      summarizer.script(() => ({ kind: "text", text: SUMMARY, usage: { input: 700, output: 30 } }));
      small.script(() => ({ kind: "text", text: "Noted.", usage: { input: 90, output: 2 } }));
      const own = new OpenAI({ baseURL: `${stored.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const conversation = await own.conversations.create({
        items: [
          { type: "message", role: "user", content: OLD },
          { type: "message", role: "assistant", content: "Happy to help with Oslo." },
        ],
      });
      await own.responses.create({
        model: "summarized",
        conversation: conversation.id,
        input: "What was the budget?",
        max_output_tokens: 50,
        truncation: "auto",
      });
      assert.equal(summarizer.requests.length, 1);
      const usage = await stored.server.store?.queryUsage();
      const byTarget = Object.fromEntries(
        (usage ?? []).map((row) => [row.target, [row.requests, row.inputTokens, row.outputTokens]]),
      );
      assert.deepEqual(byTarget, { "sum/s": [1, 700, 30], "small/m": [1, 90, 2] });
    } finally {
      await stored.close();
    }
  });
});
