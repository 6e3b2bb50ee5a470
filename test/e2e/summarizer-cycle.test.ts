/**
 * Two routes that name each other as `summarizer` are a valid config, not a loop: a summarizer is
 * asked with a request of its own that carries no stored history, so its route never summarizes in
 * turn (Router.chat makes a summarizer only for a request with a history). The config loads, and a
 * cut that both routes' small windows force ends with one answer and a bounded number of upstream
 * requests, even where the summarizing route's own window needs the summary made in pieces.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let first: FakeOpenAIUpstream;
let second: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [first, second] = await Promise.all([startFakeOpenAI({ models: ["m"] }), startFakeOpenAI({ models: ["m"] })]);
  first.script(() => ({ kind: "text", text: "Noted." }));
  second.script(() => ({ kind: "text", text: "Summary: an Oslo trip." }));
  tandem = await startTandem({
    providers: {
      one: { kind: "openai", baseUrl: first.url, models: { m: { contextWindow: 400 } } },
      two: { kind: "openai", baseUrl: second.url, models: { m: { contextWindow: 300 } } },
    },
    routes: {
      a: { tiers: ["one/m"], summarizer: "b" },
      b: { tiers: ["two/m"], summarizer: "a" },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([first?.close(), second?.close()]);
});

describe("routes that name each other as summarizer", () => {
  it("summarize a cut once, through the other route, without asking back", { timeout: 30_000 }, async () => {
    const turn = "Let us plan the Oslo trip in May. ".repeat(16);
    const conversation = await client.conversations.create({
      items: [1, 2, 3, 4].flatMap((n) => [
        { type: "message" as const, role: "user" as const, content: `${n}: ${turn}` },
        { type: "message" as const, role: "assistant" as const, content: `Noted ${n}.` },
      ]),
    });
    const answer = await client.responses
      .create({
        model: "a",
        conversation: conversation.id,
        input: "What was planned?",
        max_output_tokens: 40,
        truncation: "auto",
      })
      .withResponse();
    assert.equal(answer.data.status, "completed");
    assert.match(answer.response.headers.get("x-tandem-degraded") ?? "", /history summarized by two\/m/);
    // Route a's target answered once: route b, whose window needed the summary made in pieces (one
    // request a piece), never asked route a for a summary of its own.
    assert.equal(first.requests.length, 1);
    assert.ok(second.requests.length >= 1 && second.requests.length <= 8, `two/m was asked ${second.requests.length} times`);
    for (const request of second.requests) assert.match(JSON.stringify(request.body), /Conversation to summarize/);
  });
});
