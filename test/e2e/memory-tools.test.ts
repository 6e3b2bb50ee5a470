/**
 * The model saves and forgets memories itself on a route with `memory: on`: tandem's `remember` and
 * `forget` tools join the tool loop beside the client's own, the calls run in tandem (the client
 * sees only the answer; x-tandem-tools names them), a memory saved in a private conversation is
 * private, and `memory.tools: false` offers none.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let claude: FakeUpstream;
let tandem: RunningTandem;
let openai: OpenAI;

type WireMessage = { role: string; content?: unknown };
const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];
const toolNames = (request: RecordedRequest | undefined): string[] =>
  (((request?.body ?? {}) as { tools?: Array<{ function?: { name: string }; name?: string }> }).tools ?? []).map(
    (t) => t.function?.name ?? t.name ?? "",
  );

interface MemoryJson {
  id: string;
  text: string;
  sensitivity: string;
  metadata: Record<string, string>;
}

async function memories(): Promise<MemoryJson[]> {
  const res = await fetch(`${tandem.url}/v1/memories?limit=100`);
  return ((await res.json()) as { data: MemoryJson[] }).data;
}

/** The model calls `tool` with `args` first, then answers with what the tool said. */
function callsThenAnswers(tool: string, args: Record<string, unknown>) {
  return (request: RecordedRequest) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") return { kind: "text" as const, text: `Done: ${String(last.content)}` };
    return { kind: "tool_calls" as const, calls: [{ name: tool, arguments: args }] };
  };
}

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  claude = await startFakeAnthropic();
  tandem = await startTandem(
    {
      providers: {
        local: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: true },
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP_KEY"], local: false },
      },
      routes: {
        remembered: { tiers: ["local/gpt-4o-mini"], memory: "on" },
        "remembered-claude": { tiers: ["claude/claude-sonnet-4-5"], memory: "on" },
        "recall-only": { tiers: ["local/gpt-4o-mini"], memory: { tools: false } },
      },
    },
    { env: { UP_KEY: "sk-up" }, store: true },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
  await claude?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  claude.requests.length = 0;
});

describe("the model's memory tools", () => {
  it("remember: saved by tandem, the client sees only the answer, x-tandem-tools names the call", async () => {
    upstream.script(callsThenAnswers("mcp__tandem-memory__remember", { text: "The user's favourite colour is teal" }));
    const { data, response } = await openai.chat.completions
      .create({ model: "remembered", messages: [{ role: "user", content: "Remember that I love teal." }] })
      .withResponse();
    assert.match(data.choices[0]?.message.content ?? "", /^Done: Remembered as mem_[a-z0-9]{16}\.$/);
    assert.equal(data.choices[0]?.message.tool_calls, undefined);
    assert.equal(response.headers.get("x-tandem-tools"), "mcp:tandem-memory/remember");
    assert.ok(toolNames(upstream.requests[0]).includes("mcp__tandem-memory__remember"));
    assert.ok(toolNames(upstream.requests[0]).includes("mcp__tandem-memory__forget"));
    const saved = (await memories()).find((m) => m.text === "The user's favourite colour is teal");
    assert.ok(saved);
    assert.deepEqual(saved.metadata, { source: "model" });
    assert.equal(saved.sensitivity, "public");

    // The next request recalls it, with its id for forget.
    upstream.script(() => ({ kind: "text", text: "Teal it is." }));
    upstream.requests.length = 0;
    const { response: next } = await openai.chat.completions
      .create({ model: "remembered", messages: [{ role: "user", content: "Which colour do I love?" }] })
      .withResponse();
    assert.equal(next.headers.get("x-tandem-memory"), saved.id);
    assert.ok(String(messagesOf(upstream.requests[0])[0]?.content).includes(`[${saved.id}]`));

    // forget, by that id.
    upstream.script(callsThenAnswers("mcp__tandem-memory__forget", { id: saved.id }));
    const forgot = await openai.chat.completions.create({
      model: "remembered",
      messages: [{ role: "user", content: "Forget my colour." }],
    });
    assert.equal(forgot.choices[0]?.message.content, `Done: Forgot ${saved.id}.`);
    assert.equal(
      (await memories()).some((m) => m.id === saved.id),
      false,
    );
  });

  it("tells the model what went wrong: an unknown id, an empty text", async () => {
    upstream.script(callsThenAnswers("mcp__tandem-memory__forget", { id: "mem_doesnotexist0000" }));
    const unknown = await openai.chat.completions.create({
      model: "remembered",
      messages: [{ role: "user", content: "Forget" }],
    });
    assert.match(unknown.choices[0]?.message.content ?? "", /No memory has the id 'mem_doesnotexist0000'/);
    upstream.script(callsThenAnswers("mcp__tandem-memory__remember", { text: "  " }));
    const empty = await openai.chat.completions.create({ model: "remembered", messages: [{ role: "user", content: "Save" }] });
    assert.match(empty.choices[0]?.message.content ?? "", /remember needs `text`/);
  });

  it("a memory saved in a private conversation is private", async () => {
    upstream.script(callsThenAnswers("mcp__tandem-memory__remember", { text: "The user is seeing a cardiologist" }));
    await openai.chat.completions.create(
      { model: "remembered", messages: [{ role: "user", content: "Remember my cardiologist visits." }] },
      { headers: { "x-tandem-sensitivity": "private" } },
    );
    const saved = (await memories()).find((m) => m.text === "The user is seeing a cardiologist");
    assert.equal(saved?.sensitivity, "private");
  });

  it("works for any model that calls tools: the Anthropic SDK to an Anthropic upstream", async () => {
    claude.script((request) => {
      const last = messagesOf(request).at(-1);
      const content = Array.isArray(last?.content) ? (last.content as { type: string; content?: unknown }[]) : [];
      const result = content.find((block) => block.type === "tool_result");
      if (result) return { kind: "text", text: "Saved." };
      return { kind: "tool_calls", calls: [{ name: "mcp__tandem-memory__remember", arguments: { text: "The user sails" } }] };
    });
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await anthropic.messages
      .create({ model: "remembered-claude", max_tokens: 50, messages: [{ role: "user", content: "I sail, remember it" }] })
      .withResponse();
    assert.deepEqual(
      data.content.map((block) => block.type),
      ["text"],
    );
    assert.equal(response.headers.get("x-tandem-tools"), "mcp:tandem-memory/remember");
    assert.ok((await memories()).some((m) => m.text === "The user sails"));
  });

  it("memory.tools: false recalls but offers no tools", async () => {
    upstream.script(() => ({ kind: "text", text: "ok" }));
    const { response } = await openai.chat.completions
      .create({ model: "recall-only", messages: [{ role: "user", content: "Do I sail?" }] })
      .withResponse();
    assert.deepEqual(toolNames(upstream.requests[0]), []);
    assert.equal(response.headers.get("x-tandem-tools"), null);
    assert.ok(response.headers.get("x-tandem-memory"), "recall still happens");
  });
});
