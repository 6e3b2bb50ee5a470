/**
 * Agent clients send `role: "system"` turns in the middle of `messages` on /v1/messages. tandem
 * accepts them and carries them to every kind of target in the closest form it has: a system
 * message where it stands (OpenAI-compatible, Ollama, the local engine, and an Anthropic upstream,
 * whose Messages API takes them there: the client's body is passed through as sent). From another
 * client's dialect to an Anthropic target, system messages join its system prompt, except trailing
 * ones after the last assistant turn, which stay (else that turn would be continued as a prefill).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const fakes = {} as Record<"openai" | "anthropic" | "ollama", FakeUpstream>;
let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let client: Anthropic;

/** The request an agent client sends: a system prompt, then a reminder as a system turn mid-way. */
const params = {
  max_tokens: 50,
  system: "You are terse.",
  messages: [
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello." },
    { role: "system", content: [{ type: "text", text: "Reminder: answer in English." }] },
    { role: "user", content: "And now?" },
  ],
} as unknown as Omit<Anthropic.MessageCreateParamsNonStreaming, "model">;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  [fakes.openai, fakes.anthropic, fakes.ollama] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  for (const fake of Object.values(fakes)) fake.script(() => ({ kind: "text", text: "Fine.", usage: { input: 9, output: 2 } }));
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: fakes.openai.url },
        anthropic: { kind: "anthropic", baseUrl: fakes.anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        ollama: { kind: "ollama", baseUrl: fakes.ollama.url },
        local: { kind: "llamacpp", threads: 1, models: { chat: { path: join(made.dir, "chat.gguf"), contextSize: 256 } } },
      },
    },
    { env: { UP_ANTHROPIC: "sk-ant-upstream" } },
  );
  client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
  await cleanup?.();
});

type WireMessage = { role: string; content: unknown };

describe("a system turn in the middle of /v1/messages", () => {
  it("reaches an OpenAI-compatible upstream as a system message where it stands", async () => {
    const message = await client.messages.create({ model: "openai/gpt-4o-mini", ...params });
    assert.equal(message.content[0]?.type === "text" && message.content[0].text, "Fine.");
    const sent = (fakes.openai.requests.at(-1)?.body as { messages: WireMessage[] }).messages;
    assert.deepEqual(
      sent.map((m) => m.role),
      ["system", "user", "assistant", "system", "user"],
    );
    assert.equal(sent[3]?.content, "Reminder: answer in English.");
  });

  it("between a tool call and its result: after the result for OpenAI-compatible and Ollama targets, which want them adjacent", async () => {
    const withTool = {
      max_tokens: 50,
      tools: [{ name: "f", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
        { role: "system", content: "Reminder." },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "done" }] },
      ],
    } as unknown as Omit<Anthropic.MessageCreateParamsNonStreaming, "model">;
    await client.messages.create({ model: "openai/gpt-4o-mini", ...withTool });
    const openai = (fakes.openai.requests.at(-1)?.body as { messages: WireMessage[] }).messages;
    assert.deepEqual(
      openai.map((m) => m.role),
      ["user", "assistant", "tool", "system"],
    );
    await client.messages.create({ model: "ollama/llama3.2:latest", ...withTool });
    const ollama = (fakes.ollama.requests.at(-1)?.body as { messages: WireMessage[] }).messages;
    assert.deepEqual(
      ollama.map((m) => m.role),
      ["user", "assistant", "tool", "system"],
    );
  });

  it("reaches an Ollama upstream as a system message where it stands", async () => {
    await client.messages.create({ model: "ollama/llama3.2:latest", ...params });
    const sent = (fakes.ollama.requests.at(-1)?.body as { messages: WireMessage[] }).messages;
    assert.deepEqual(
      sent.map((m) => m.role),
      ["system", "user", "assistant", "system", "user"],
    );
    assert.equal(sent[3]?.content, "Reminder: answer in English.");
  });

  it("reaches an Anthropic upstream where it stands, as the client sent it (the Messages API takes system turns)", async () => {
    await client.messages.create({ model: "anthropic/claude-haiku-4-5", ...params });
    const body = fakes.anthropic.requests.at(-1)?.body as { system: unknown; messages: WireMessage[] };
    assert.equal(body.system, "You are terse.");
    assert.deepEqual(body.messages, (params as unknown as { messages: WireMessage[] }).messages);
  });

  it("from an OpenAI client to an Anthropic target: in the system prompt, but a trailing one after the assistant stays", async () => {
    const post = (messages: object[]) =>
      fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "anthropic/claude-haiku-4-5", max_tokens: 50, messages }),
      });
    const start = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." },
    ];
    assert.equal(
      (await post([...start, { role: "system", content: "Reminder." }, { role: "user", content: "Now?" }])).status,
      200,
    );
    const middle = fakes.anthropic.requests.at(-1)?.body as { system: unknown; messages: WireMessage[] };
    assert.match(JSON.stringify(middle.system), /You are terse\..*Reminder\./);
    assert.deepEqual(
      middle.messages.map((m) => m.role),
      ["user", "assistant", "user"],
    );
    assert.equal((await post([...start, { role: "system", content: "Now answer in French." }])).status, 200);
    const trailing = fakes.anthropic.requests.at(-1)?.body as { system: unknown; messages: WireMessage[] };
    assert.equal(trailing.system, "You are terse.");
    assert.deepEqual(trailing.messages.at(-1), { role: "system", content: [{ type: "text", text: "Now answer in French." }] });
  });

  it("is answered by the local engine", async () => {
    const message = await client.messages.create({ model: "local/chat", ...params });
    assert.equal(message.content[0]?.type === "text" && message.content[0].text, "Hello from tandem.");
  });

  it("streamed too, and a system turn with a non-text block is a 400 naming it", async () => {
    const stream = client.messages.stream({ model: "openai/gpt-4o-mini", ...params });
    assert.equal((await stream.finalText()).trim(), "Fine.");
    await assert.rejects(
      client.messages.create({
        model: "openai/gpt-4o-mini",
        max_tokens: 10,
        messages: [
          { role: "user", content: "Hi" },
          {
            role: "system",
            content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }],
          },
        ],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /messages\[1\]\.content\[0\]\.type/.test(err.message),
    );
  });
});
