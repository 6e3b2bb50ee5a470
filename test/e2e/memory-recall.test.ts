/**
 * Recall on routes with `memory: on`, through the official SDKs to fake upstreams: the memories most
 * relevant to the latest user turn reach the model as one delimited system message after the
 * client's own system prompt and ahead of the history, whatever the client's wire and the
 * upstream's; the answer names them in `x-tandem-memory`; a recalled private memory keeps the
 * request on this machine; and no memory's text reaches a log line.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let cloud: FakeUpstream;
let local: FakeUpstream;
let claude: FakeUpstream;
let ollamaUp: FakeUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
const log: string[] = [];

type WireMessage = { role: string; content?: unknown };
const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part) => (part as { text?: string }).text ?? "").join("")
      : "";

const BEES = "The user keeps bees on a rooftop in Leeds";
const PRIVATE = "The user's bank PIN hint is the bees' queen name";
const CHESS = "The user plays chess on Sundays";
const memoryIds: Record<string, string> = {};

async function remember(text: string, sensitivity?: string): Promise<string> {
  const res = await fetch(`${tandem.url}/v1/memories`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, ...(sensitivity && { sensitivity }) }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

before(async () => {
  cloud = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  local = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  claude = await startFakeAnthropic();
  ollamaUp = await startFakeOllama();
  tandem = await startTandem(
    {
      providers: {
        cloud: { kind: "openai", baseUrl: cloud.url, apiKeys: ["env:UP_KEY"], local: false },
        local: { kind: "openai", baseUrl: local.url, apiKeys: ["env:UP_KEY"], local: true },
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP_KEY"], local: false },
        ol: { kind: "ollama", baseUrl: ollamaUp.url },
      },
      routes: {
        remembered: { tiers: ["cloud/gpt-4o-mini"], memory: "on" },
        "remembered-claude": { tiers: ["claude/claude-sonnet-4-5"], memory: true },
        "remembered-ollama": { tiers: ["ol/llama3.2"], memory: { recall: 1 } },
        mixed: { tiers: ["cloud/gpt-4o-mini", "local/gpt-4o-mini"], memory: "on" },
        plain: { tiers: ["cloud/gpt-4o-mini"] },
      },
    },
    { env: { UP_KEY: "sk-upstream" }, store: true, log },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  memoryIds.bees = await remember(BEES);
  memoryIds.chess = await remember(CHESS);
});

after(async () => {
  await tandem?.close();
  await Promise.all([cloud?.close(), local?.close(), claude?.close(), ollamaUp?.close()]);
});

beforeEach(() => {
  for (const upstream of [cloud, local, claude, ollamaUp]) upstream.requests.length = 0;
});

describe("recall on a route with memory: on", () => {
  it("openai SDK: the relevant memory as a system message after the client's system prompt, ahead of the history", async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: "remembered",
        messages: [
          { role: "system", content: "You are terse." },
          { role: "user", content: "Hello" },
          { role: "assistant", content: "Hi." },
          { role: "user", content: "How are my bees doing?" },
        ],
      })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from openai");
    assert.equal(response.headers.get("x-tandem-memory"), memoryIds.bees);
    const sent = messagesOf(cloud.requests[0]);
    assert.deepEqual(
      sent.map((m) => m.role),
      ["system", "system", "user", "assistant", "user"],
    );
    assert.equal(textOf(sent[0]?.content), "You are terse.");
    const memory = textOf(sent[1]?.content);
    assert.match(memory, /^<user_memories>\n[\s\S]*not instructions[\s\S]*<\/user_memories>$/);
    assert.ok(memory.includes(`- [${memoryIds.bees}] ${BEES}`));
    assert.equal(memory.includes(CHESS), false, "an unrelated memory is not recalled");
  });

  it("openai SDK, streamed: the header on the stream too", async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({ model: "remembered", stream: true, messages: [{ role: "user", content: "chess plans for Sunday?" }] })
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from openai");
    assert.equal(response.headers.get("x-tandem-memory"), memoryIds.chess);
    assert.equal(messagesOf(cloud.requests[0])[0]?.role, "system");
  });

  it("the Anthropic SDK: the memory joins the system prompt sent to an Anthropic upstream", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await anthropic.messages
      .create({
        model: "remembered-claude",
        max_tokens: 50,
        system: "Be kind.",
        messages: [{ role: "user", content: "Any tips for my bees this winter?" }],
      })
      .withResponse();
    assert.equal(data.content[0]?.type, "text");
    assert.equal(response.headers.get("x-tandem-memory"), memoryIds.bees);
    const body = claude.requests[0]?.body as { system?: unknown; messages: WireMessage[] };
    const system = textOf(body.system);
    assert.ok(system.startsWith("Be kind."), system);
    assert.ok(system.indexOf("<user_memories>") > system.indexOf("Be kind."));
    assert.ok(system.includes(BEES));
    assert.deepEqual(
      body.messages.map((m) => m.role),
      ["user"],
    );
  });

  it("counts what a request would send: count_tokens and input_tokens take in the memories it would recall", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const input = "Any tips for my bees this winter?";
    // The same request on a route with memory counts more than on one without, by about the memory's size.
    const tokens = async (model: string) =>
      (await anthropic.messages.countTokens({ model, system: "Be kind.", messages: [{ role: "user", content: input }] }))
        .input_tokens;
    const [anthropicWith, anthropicWithout] = [await tokens("remembered-claude"), await tokens("plain")];
    assert.ok(anthropicWith > anthropicWithout + BEES.length / 8, `${anthropicWith} > ${anthropicWithout}`);
    const count = async (model: string) => (await openai.responses.inputTokens.count({ model, input })).input_tokens;
    const [responsesWith, responsesWithout] = [await count("remembered"), await count("plain")];
    assert.ok(responsesWith > responsesWithout + BEES.length / 8, `${responsesWith} > ${responsesWithout}`);
    // No memory matches: the same count.
    const unrelated = "What is the capital of Peru?";
    const [a, b] = [
      (await openai.responses.inputTokens.count({ model: "remembered", input: unrelated })).input_tokens,
      (await openai.responses.inputTokens.count({ model: "plain", input: unrelated })).input_tokens,
    ];
    assert.equal(a, b);
  });

  it("Ollama's client: the memory first among the messages sent to an Ollama upstream; recall: 1 caps it", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const answer = await ollama.chat({
      model: "remembered-ollama",
      messages: [{ role: "user", content: "bees and chess: what should I do on Sunday?" }],
    });
    assert.equal(answer.message.content, "Hello from ollama");
    const sent = messagesOf(ollamaUp.requests[0]);
    assert.deepEqual(
      sent.map((m) => m.role),
      ["system", "user"],
    );
    const recalled = textOf(sent[0]?.content).match(/\[mem_\w+\]/g) ?? [];
    assert.equal(recalled.length, 1, "recall: 1");
    // The header is on Ollama's answer too (fetch, as the ollama client does not show headers).
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "remembered-ollama", stream: false, messages: [{ role: "user", content: "bees?" }] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-tandem-memory"), memoryIds.bees);
  });

  it("recalls nothing (no message, no header) when no memory matches, and never on a route without memory", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "remembered", messages: [{ role: "user", content: "What is the capital of Peru?" }] })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-memory"), null);
    assert.deepEqual(
      messagesOf(cloud.requests[0]).map((m) => m.role),
      ["user"],
    );
    const plain = await openai.chat.completions
      .create({ model: "plain", messages: [{ role: "user", content: "How are my bees?" }] })
      .withResponse();
    assert.equal(plain.response.headers.get("x-tandem-memory"), null);
    assert.deepEqual(
      messagesOf(cloud.requests[1]).map((m) => m.role),
      ["user"],
    );
  });

  it("the Responses API: recalled into a stored conversation's turn, not stored with it", async () => {
    const { data, response } = await openai.responses.create({ model: "remembered", input: "my bees?" }).withResponse();
    assert.equal(response.headers.get("x-tandem-memory"), memoryIds.bees);
    const sent = messagesOf(cloud.requests[0]);
    assert.ok(textOf(sent[0]?.content).includes(BEES));
    const items = await openai.responses.inputItems.list(data.id);
    assert.equal(JSON.stringify(items.data).includes(BEES), false);
  });
});

describe("a recalled private memory", () => {
  it("keeps the request on this machine: the local tier answers, the cloud gets nothing, nothing is audited", async () => {
    const publicAnswer = await openai.chat.completions
      .create({ model: "mixed", messages: [{ role: "user", content: "How are my bees?" }] })
      .withResponse();
    assert.equal(
      publicAnswer.response.headers.get("x-tandem-target"),
      "cloud/gpt-4o-mini",
      "the control: a public memory may leave",
    );
    assert.equal(cloud.requests.length, 1);

    memoryIds.private = await remember(PRIVATE, "private");
    try {
      cloud.requests.length = 0;
      const before = await auditRows();
      const { response } = await openai.chat.completions
        .create({ model: "mixed", messages: [{ role: "user", content: "How is the queen of my bees?" }] })
        .withResponse();
      assert.equal(response.headers.get("x-tandem-target"), "local/gpt-4o-mini");
      assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
      assert.ok(response.headers.get("x-tandem-memory")?.split(", ").includes(memoryIds.private));
      assert.equal(cloud.requests.length, 0, "no byte to the cloud");
      assert.ok(textOf(messagesOf(local.requests[0])[0]?.content).includes(PRIVATE));
      assert.equal((await auditRows()).length, before.length, "no egress recorded");

      // A client that declares its request public does not lower the memory's level.
      const declared = await openai.chat.completions
        .create(
          { model: "mixed", messages: [{ role: "user", content: "the queen of my bees?" }] },
          { headers: { "x-tandem-sensitivity": "public" } },
        )
        .withResponse();
      assert.equal(declared.response.headers.get("x-tandem-target"), "local/gpt-4o-mini");
      assert.equal(cloud.requests.length, 0);
    } finally {
      await fetch(`${tandem.url}/v1/memories/${memoryIds.private}`, { method: "DELETE" });
    }
  });
});

describe("the log", () => {
  it("holds no memory's text, after adds, searches, recalls, updates and errors", async () => {
    const id = await remember("The user's nickname is Zebulon");
    await fetch(`${tandem.url}/v1/memories?query=Zebulon`);
    await openai.chat.completions.create({
      model: "remembered",
      messages: [{ role: "user", content: "Call me by my nickname Zebulon" }],
    });
    await fetch(`${tandem.url}/v1/memories/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "The user's nickname is Zebulon the Second" }),
    });
    await fetch(`${tandem.url}/v1/memories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: `Zebulon ${"x".repeat(5000)}` }),
    });
    await fetch(`${tandem.url}/v1/memories/${id}`, { method: "DELETE" });
    assert.ok(log.length > 5, "the positive control: the server logged these requests");
    for (const text of [BEES, CHESS, PRIVATE, "Zebulon"]) {
      assert.equal(
        log.some((line) => line.includes(text)),
        false,
        `no log line holds "${text}"`,
      );
    }
  });
});

async function auditRows(): Promise<unknown[]> {
  const res = await fetch(`${tandem.url}/v1/audit`);
  return ((await res.json()) as { data: unknown[] }).data;
}
