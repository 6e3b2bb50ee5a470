/**
 * Stored chat completions through the official `openai` client against the real server: `store: true`
 * keeps the completion as the client got it (whole, streamed and put together, several choices),
 * from an OpenAI-compatible target on the same wire and from Anthropic (canonical); then list (model
 * and metadata filters, cursor paging both ways, auto-paging), retrieve, update, delete and the
 * request's messages, in OpenAI's shapes and errors. Not stored: `store` absent or false, a failed
 * answer. Kept across a restart over the same data dir with the encrypted store, and behind the key.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { NewChatCompletion, StoredChatCompletion } from "../../src/core/index.js";
import { MemoryChatCompletionStore } from "../../src/harness/chat-completions/index.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;

function config() {
  return {
    providers: {
      oai: { kind: "openai" as const, baseUrl: openai.url, models: ["gpt-4o-mini"] },
      claude: {
        kind: "anthropic" as const,
        baseUrl: anthropic.url,
        apiKeys: ["env:UP_ANTHROPIC"],
        models: ["claude-sonnet-4-5"],
      },
      ollama: { kind: "ollama" as const, baseUrl: ollama.url, models: { llama: { id: "llama3.2:latest" } } },
    },
    routes: {
      fast: { tiers: [["oai/gpt-4o-mini"]], retry: { attempts: 1 } },
      whole: { tiers: [["oai/gpt-4o-mini"]], streamUpstream: false, retry: { attempts: 1 } },
      "oai-then-ollama": { tiers: [["oai/gpt-4o-mini"], ["ollama/llama"]], retry: { attempts: 1 } },
    },
  };
}
const ENV = { UP_ANTHROPIC: "sk-ant-test" };

before(async () => {
  [openai, anthropic, ollama] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOllama(),
  ]);
  openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 7, output: 3 } }));
  anthropic.script(() => ({ kind: "text", text: "Hello from claude", usage: { input: 5, output: 4 } }));
});
after(async () => {
  await Promise.all([openai?.close(), anthropic?.close(), ollama?.close()]);
});

describe("stored chat completions (in memory, store off)", () => {
  let tandem: RunningTandem;
  let client: OpenAI;
  before(async () => {
    tandem = await startTandem(config(), { env: ENV });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  after(() => tandem?.close());

  it("stores a same-wire completion as the client got it, and retrieves it with its metadata", async () => {
    const created = await client.chat.completions.create({
      model: "oai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      store: true,
      metadata: { topic: "greeting" },
      temperature: 0.5,
    });
    // The upstream got the client's body as it was: store and metadata too (an OpenAI upstream keeps its own copy).
    const sent = openai.requests.at(-1)?.body as Record<string, unknown>;
    assert.equal(sent.store, true);
    assert.deepEqual(sent.metadata, { topic: "greeting" });
    const stored = await client.chat.completions.retrieve(created.id);
    const { metadata, temperature, tools, seed, input_user, ...rest } = stored as unknown as Record<string, unknown>;
    assert.deepEqual(metadata, { topic: "greeting" });
    assert.equal(temperature, 0.5);
    assert.equal(tools, null);
    assert.equal(seed, null);
    assert.equal(input_user, null);
    for (const key of ["top_p", "tool_choice", "presence_penalty", "frequency_penalty", "response_format"]) delete rest[key];
    assert.deepEqual(rest, created as unknown as Record<string, unknown>);
    assert.equal(created.choices[0]?.message.content, "Hello from openai");
    assert.equal(created.system_fingerprint, "fp_fake0openai");
  });

  it("stores a streamed completion put together from its chunks before [DONE], usage included", async () => {
    const stream = await client.chat.completions.create({
      model: "oai/gpt-4o-mini",
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
      store: true,
    });
    let id = "";
    let text = "";
    let sawUsage = false;
    for await (const chunk of stream) {
      id = chunk.id;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    assert.equal(sawUsage, false, "the client did not ask for the usage chunk");
    // Right after the stream's end: no waiting, it was saved before [DONE].
    const stored = await client.chat.completions.retrieve(id);
    assert.equal(stored.object, "chat.completion");
    assert.equal(stored.model, "oai/gpt-4o-mini");
    assert.equal(stored.choices.length, 1);
    assert.equal(stored.choices[0]?.message.content, text);
    assert.equal(stored.choices[0]?.message.content, "Hello from openai");
    assert.equal(stored.choices[0]?.finish_reason, "stop");
    assert.equal(stored.usage?.prompt_tokens, 7);
    assert.equal(stored.usage?.completion_tokens, 3);
    assert.equal(stored.system_fingerprint, "fp_fake0openai");
  });

  it("stores Anthropic's answers (a canonical target), whole and streamed", async () => {
    const { data: whole, response } = await client.chat.completions
      .create({
        model: "claude/claude-sonnet-4-5",
        messages: [{ role: "user", content: "hi claude" }],
        store: true,
        metadata: { target: "claude" },
      })
      .withResponse();
    // tandem keeps them itself: neither is named as lost on the way to Anthropic.
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /store|metadata/);
    assert.equal((await client.chat.completions.retrieve(whole.id)).choices[0]?.message.content, "Hello from claude");
    const sent = anthropic.requests.at(-1)?.body as Record<string, unknown>;
    assert.equal(sent.store, undefined, "Anthropic's wire has no store");
    assert.equal(sent.metadata, undefined);

    const stream = await client.chat.completions.create({
      model: "claude/claude-sonnet-4-5",
      messages: [{ role: "user", content: "stream claude" }],
      stream: true,
      store: true,
      stream_options: { include_usage: true },
    });
    let id = "";
    for await (const chunk of stream) id = chunk.id;
    const stored = await client.chat.completions.retrieve(id);
    assert.equal(stored.choices[0]?.message.content, "Hello from claude");
    assert.equal(stored.choices[0]?.finish_reason, "stop");
    assert.equal(stored.model, "claude/claude-sonnet-4-5");
    assert.equal(stored.usage?.completion_tokens, 4);
    assert.deepEqual((stored as unknown as { metadata: unknown }).metadata, {});
  });

  it("stores Ollama's streamed answer (a canonical target)", async () => {
    const stream = await client.chat.completions.create({
      model: "ollama/llama",
      messages: [{ role: "user", content: "hi llama" }],
      stream: true,
      store: true,
    });
    let id = "";
    let text = "";
    for await (const chunk of stream) {
      id = chunk.id;
      text += chunk.choices[0]?.delta.content ?? "";
    }
    const stored = await client.chat.completions.retrieve(id);
    assert.equal(text, "Hello from ollama");
    assert.equal(stored.choices[0]?.message.content, text);
    assert.equal(stored.usage?.prompt_tokens, 12);
    assert.equal((await client.chat.completions.messages.list(id)).data[0]?.content, "hi llama");
  });

  it("stores an answer continued on another target mid-stream as the client got it", async () => {
    openai.script(() => ({ kind: "broken_stream", chunks: ["Hel", "lo, "] }));
    try {
      const stream = await client.chat.completions.create({
        model: "oai-then-ollama",
        messages: [{ role: "user", content: "switch" }],
        stream: true,
        store: true,
      });
      let id = "";
      let text = "";
      for await (const chunk of stream) {
        id ||= chunk.id;
        text += chunk.choices[0]?.delta.content ?? "";
      }
      assert.ok(text.startsWith("Hello, "), text);
      const stored = await client.chat.completions.retrieve(id);
      assert.equal(stored.choices[0]?.message.content, text);
      assert.equal(stored.choices[0]?.finish_reason, "stop");
    } finally {
      openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 7, output: 3 } }));
    }
  });

  it("does not store an answer the client left, nor one that broke with no target to go on", async () => {
    const before = (await client.chat.completions.list({ limit: 100 })).data.length;
    openai.script(() => ({ kind: "stall", chunks: ["Hel", "lo"] }));
    try {
      const controller = new AbortController();
      const stream = await client.chat.completions.create(
        { model: "oai/gpt-4o-mini", messages: [{ role: "user", content: "stall" }], stream: true, store: true },
        { signal: controller.signal },
      );
      // The SDK ends the iteration quietly when its own signal aborts it.
      let text = "";
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (text !== "") controller.abort();
      }
      assert.ok(text.startsWith("Hel"), text);
      openai.script(() => ({ kind: "broken_stream", chunks: ["Hel", "lo"] }));
      const broken = await client.chat.completions.create({
        model: "fast",
        messages: [{ role: "user", content: "broken" }],
        stream: true,
        store: true,
      });
      await assert.rejects(async () => {
        for await (const _ of broken);
      });
    } finally {
      openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 7, output: 3 } }));
    }
    // The server has seen the client leave once the next request is answered.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await client.chat.completions.list({ limit: 100 })).data.length, before);
  });

  it("stores every choice of n > 1, whole and streamed", async () => {
    const choice = (index: number, text: string) => ({
      index,
      message: { role: "assistant", content: text, refusal: null },
      logprobs: null,
      finish_reason: "stop",
    });
    openai.script((request) => {
      const body = request.body as { stream?: boolean };
      const envelope = { id: "chatcmpl-two", created: 1_764_790_000, model: "gpt-4o-mini", system_fingerprint: "fp_n" };
      if (!body.stream) {
        const whole = { ...envelope, object: "chat.completion", choices: [choice(0, "one"), choice(1, "two")], usage: null };
        return { kind: "raw", headers: { "content-type": "application/json" }, body: [JSON.stringify(whole)] };
      }
      const chunk = (choices: unknown[], usage: unknown = null) =>
        `data: ${JSON.stringify({ ...envelope, id: "chatcmpl-two-s", object: "chat.completion.chunk", choices, usage })}\n\n`;
      const delta = (index: number, d: unknown, finish: string | null = null) => ({
        index,
        delta: d,
        logprobs: null,
        finish_reason: finish,
      });
      return {
        kind: "raw",
        body: [
          chunk([delta(0, { role: "assistant", content: "" }), delta(1, { role: "assistant", content: "" })]),
          chunk([delta(0, { content: "on" })]),
          chunk([delta(1, { content: "tw" })]),
          chunk([delta(0, { content: "e" }), delta(1, { content: "o" })]),
          chunk([delta(0, {}, "stop"), delta(1, {}, "length")]),
          chunk([], { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }),
          "data: [DONE]\n\n",
        ],
      };
    });
    try {
      // The upstream's whole answer (the route does not stream from it).
      const whole = await client.chat.completions.create({
        model: "whole",
        messages: [{ role: "user", content: "two" }],
        n: 2,
        store: true,
      });
      // Stored under an id of tandem's own, which the client is given, not the upstream's.
      assert.match(whole.id, /^chatcmpl-[A-Za-z0-9]{24}$/);
      const stored = await client.chat.completions.retrieve(whole.id);
      assert.deepEqual(
        stored.choices.map((c) => c.message.content),
        ["one", "two"],
      );
      const stream = await client.chat.completions.create({
        model: "oai/gpt-4o-mini",
        messages: [{ role: "user", content: "two" }],
        n: 2,
        stream: true,
        store: true,
      });
      const ids = new Set<string>();
      for await (const chunk of stream) ids.add(chunk.id);
      assert.equal(ids.size, 1, "every chunk has the one stored id");
      const [streamedId] = ids as Set<string> & Iterable<string>;
      assert.notEqual(streamedId, "chatcmpl-two-s");
      const streamed = await client.chat.completions.retrieve(streamedId as string);
      assert.deepEqual(
        streamed.choices.map((c) => [c.index, c.message.content, c.finish_reason]),
        [
          [0, "one", "stop"],
          [1, "two", "length"],
        ],
      );
      assert.equal(streamed.usage?.total_tokens, 7);
    } finally {
      openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 7, output: 3 } }));
    }
  });

  it("keeps two completions an upstream gave one id (Ollama's OpenAI endpoint repeats them), whole and streamed", async () => {
    openai.script((request) => {
      const body = request.body as { stream?: boolean; messages: { content: string }[] };
      const text = body.messages[0]?.content ?? "";
      const envelope = { id: "chatcmpl-7", created: 1_764_790_000, model: "gpt-4o-mini" };
      if (!body.stream) {
        const message = { role: "assistant", content: `re: ${text}`, refusal: null };
        const whole = { ...envelope, object: "chat.completion", choices: [{ index: 0, message, finish_reason: "stop" }] };
        return { kind: "raw", headers: { "content-type": "application/json" }, body: [JSON.stringify(whole)] };
      }
      const chunk = (delta: unknown, finish: string | null = null) =>
        `data: ${JSON.stringify({ ...envelope, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      return {
        kind: "raw",
        body: [chunk({ role: "assistant", content: `re: ${text}` }), chunk({}, "stop"), "data: [DONE]\n\n"],
      };
    });
    try {
      const ids: string[] = [];
      for (const text of ["first", "second"]) {
        const whole = await client.chat.completions.create({
          model: "whole",
          messages: [{ role: "user", content: text }],
          store: true,
        });
        ids.push(whole.id);
        const stream = await client.chat.completions.create({
          model: "oai/gpt-4o-mini",
          messages: [{ role: "user", content: `${text} streamed` }],
          stream: true,
          store: true,
        });
        let id = "";
        for await (const chunk of stream) id = chunk.id;
        ids.push(id);
      }
      assert.equal(new Set(ids).size, 4, ids.join(", "));
      const answers = await Promise.all(
        ids.map(async (id) => (await client.chat.completions.retrieve(id)).choices[0]?.message.content),
      );
      assert.deepEqual(answers, ["re: first", "re: first streamed", "re: second", "re: second streamed"]);
    } finally {
      openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 7, output: 3 } }));
    }
  });

  it("lists the request's messages with OpenAI's ids: string and array content, tool calls and results", async () => {
    const created = await client.chat.completions.create({
      model: "oai/gpt-4o-mini",
      store: true,
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is here?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "look", arguments: '{"at":"image"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "a cat" },
      ],
    });
    const page = await client.chat.completions.messages.list(created.id);
    const all = page.data as unknown as Record<string, unknown>[];
    assert.deepEqual(
      all.map((m) => m.id),
      [0, 1, 2, 3].map((i) => `${created.id}-${i}`),
    );
    assert.deepEqual(all[0], {
      id: `${created.id}-0`,
      role: "system",
      content: "Be brief.",
      refusal: null,
      name: null,
      content_parts: null,
    });
    assert.equal(all[1]?.content, "What is here?");
    assert.deepEqual(all[1]?.content_parts, [
      { type: "text", text: "What is here?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    ]);
    assert.equal(all[2]?.content, null);
    assert.deepEqual(all[2]?.tool_calls, [
      { id: "call_1", type: "function", function: { name: "look", arguments: '{"at":"image"}' } },
    ]);
    assert.equal(all[3]?.tool_call_id, "call_1");
    assert.equal(all[3]?.content, "a cat");

    const desc = await client.chat.completions.messages.list(created.id, { order: "desc", limit: 3 });
    assert.deepEqual(
      desc.data.map((m) => m.id),
      [3, 2, 1].map((i) => `${created.id}-${i}`),
    );
    assert.equal(desc.has_more, true);
    const ids: string[] = [];
    for await (const message of client.chat.completions.messages.list(created.id, { limit: 1 })) ids.push(message.id);
    assert.deepEqual(
      ids,
      [0, 1, 2, 3].map((i) => `${created.id}-${i}`),
    );
  });

  it("lists by model and metadata, pages both ways and auto-pages; updates metadata; deletes, then 404", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await client.chat.completions.create({
        model: i % 2 === 0 ? "fast" : "claude/claude-sonnet-4-5",
        messages: [{ role: "user", content: `list ${i}` }],
        store: true,
        metadata: { batch: "list-test", parity: i % 2 === 0 ? "even" : "odd" },
      });
      made.push(created.id);
    }
    const byBatch = await client.chat.completions.list({ metadata: { batch: "list-test" }, limit: 2 });
    assert.deepEqual(
      byBatch.data.map((c) => c.id),
      made.slice(0, 2),
    );
    assert.equal(byBatch.has_more, true);
    const all: string[] = [];
    for await (const c of client.chat.completions.list({ metadata: { batch: "list-test" }, limit: 2 })) all.push(c.id);
    assert.deepEqual(all, made);
    const desc = await client.chat.completions.list({ metadata: { batch: "list-test" }, order: "desc", limit: 10 });
    assert.deepEqual(
      desc.data.map((c) => c.id),
      [...made].reverse(),
    );
    const odd = await client.chat.completions.list({ metadata: { batch: "list-test", parity: "odd" } });
    assert.deepEqual(
      odd.data.map((c) => c.id),
      [made[1], made[3]],
    );
    // The answering target, or the route the request named.
    const byTarget = await client.chat.completions.list({ model: "claude/claude-sonnet-4-5", metadata: { batch: "list-test" } });
    assert.deepEqual(
      byTarget.data.map((c) => c.id),
      [made[1], made[3]],
    );
    const byRoute = await client.chat.completions.list({ model: "fast", metadata: { batch: "list-test" } });
    assert.deepEqual(
      byRoute.data.map((c) => c.id),
      [made[0], made[2], made[4]],
    );
    const page = await client.chat.completions.list({ metadata: { batch: "list-test" }, after: made[2], limit: 5 });
    assert.deepEqual(
      page.data.map((c) => c.id),
      made.slice(3),
    );

    const target = made[0] as string;
    const updated = await client.chat.completions.update(target, { metadata: { batch: "moved" } });
    assert.deepEqual((updated as unknown as { metadata: unknown }).metadata, { batch: "moved" });
    assert.equal((await client.chat.completions.list({ metadata: { batch: "list-test" } })).data.length, 4);
    const cleared = await client.chat.completions.update(target, { metadata: null });
    assert.deepEqual((cleared as unknown as { metadata: unknown }).metadata, {});

    assert.deepEqual(await client.chat.completions.delete(target), {
      object: "chat.completion.deleted",
      id: target,
      deleted: true,
    });
    for (const call of [
      () => client.chat.completions.retrieve(target),
      () => client.chat.completions.delete(target),
      () => client.chat.completions.update(target, { metadata: {} }),
      () => client.chat.completions.messages.list(target),
    ]) {
      await assert.rejects(call, (err: unknown) => {
        assert.ok(err instanceof OpenAI.NotFoundError);
        assert.deepEqual(err.error, {
          message: `Chat completion with id '${target}' not found.`,
          type: "invalid_request_error",
          param: null,
          code: null,
        });
        return true;
      });
    }
  });

  it("does not store without store: true, nor an answer that failed", async () => {
    const plain = await client.chat.completions.create({ model: "oai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const off = await client.chat.completions.create({
      model: "oai/gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      store: false,
    });
    for (const id of [plain.id, off.id]) await assert.rejects(client.chat.completions.retrieve(id), OpenAI.NotFoundError);
    const before = (await client.chat.completions.list({ limit: 100 })).data.length;
    openai.script(() => ({ kind: "error", status: 400, message: "bad request upstream" }));
    try {
      await assert.rejects(
        client.chat.completions.create({ model: "oai/gpt-4o-mini", messages: [{ role: "user", content: "x" }], store: true }),
        OpenAI.BadRequestError,
      );
    } finally {
      openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 7, output: 3 } }));
    }
    assert.equal((await client.chat.completions.list({ limit: 100 })).data.length, before);
  });

  it("refuses bad metadata and bad list queries with OpenAI's 400s, before anything is sent", async () => {
    const sentBefore = openai.requests.length;
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    for (const [metadata, param] of [
      [tooMany, "metadata"],
      [{ ["k".repeat(65)]: "v" }, "metadata"],
      [{ k: "v".repeat(513) }, "metadata.k"],
      [{ k: 1 }, "metadata.k"],
    ] as const) {
      await assert.rejects(
        client.chat.completions.create({
          model: "oai/gpt-4o-mini",
          messages: [{ role: "user", content: "x" }],
          store: true,
          metadata: metadata as Record<string, string>,
        }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param: string }).param === param,
      );
    }
    assert.equal(openai.requests.length, sentBefore, "nothing was sent upstream");
    const stored = (await client.chat.completions.list({ limit: 1 })).data[0];
    assert.ok(stored);
    await assert.rejects(client.chat.completions.update(stored.id, { metadata: tooMany }), OpenAI.BadRequestError);
    const res = await fetch(`${tandem.url}/v1/chat/completions/${stored.id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, "metadata");
    // Only the metadata can change: another field is refused, not ignored.
    await assert.rejects(
      client.chat.completions.update(stored.id, { metadata: {}, temperature: 0 } as never),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError &&
        (err.error as { param: string }).param === "temperature" &&
        /Unrecognized request argument supplied: temperature/.test(err.message),
    );
    await assert.rejects(client.chat.completions.list({ limit: 101 }), OpenAI.BadRequestError);
    await assert.rejects(client.chat.completions.list({ order: "up" as "asc" }), OpenAI.BadRequestError);
    await assert.rejects(
      client.chat.completions.list({ metadata: { ["k".repeat(65)]: "v" } }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param: string }).param === "metadata",
    );
  });
});

/** A store whose disk is full: every save fails as the encrypted store's do (transient, with a code). */
class FullStore extends MemoryChatCompletionStore {
  override async saveCompletion(_completion: NewChatCompletion): Promise<StoredChatCompletion> {
    throw Object.assign(
      new Error("cannot use the stored chat completions in /home/someone/.local/share/tandem/tandem.db: disk full"),
      {
        code: "disk_full",
        transient: true,
      },
    );
  }
}

describe("stored chat completions when the store cannot take them", () => {
  let tandem: RunningTandem;
  let client: OpenAI;
  before(async () => {
    tandem = await startTandem(config(), { env: ENV, chatCompletions: new FullStore() });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  after(() => tandem?.close());

  it("answers 503 (a stream: its error, no [DONE]) without the store's words, and leaves other requests alone", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "oai/gpt-4o-mini", messages: [{ role: "user", content: "x" }], store: true }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 503);
        assert.doesNotMatch(err.message, /home|tandem\.db|disk full/);
        return true;
      },
    );
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "claude/claude-sonnet-4-5",
        messages: [{ role: "user", content: "x" }],
        stream: true,
        store: true,
      }),
    });
    const text = await res.text();
    assert.match(text, /"code":"service_unavailable"/);
    assert.doesNotMatch(text, /\[DONE\]|home|tandem\.db/);
    const plain = await client.chat.completions.create({ model: "oai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    assert.equal(plain.choices[0]?.message.content, "Hello from openai");
  });
});

describe("stored chat completions in the encrypted store", () => {
  it("are kept across a restart over the same data dir, and deleted for good", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-chat-store-"));
    const key = randomBytes(32);
    let tandem = await startTandem(config(), { store: { key }, dataDir, env: ENV });
    let client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const kept = await client.chat.completions.create({
      model: "oai/gpt-4o-mini",
      messages: [{ role: "user", content: "remember me" }],
      store: true,
      metadata: { run: "restart" },
    });
    const gone = await client.chat.completions.create({
      model: "claude/claude-sonnet-4-5",
      messages: [{ role: "user", content: "forget me" }],
      store: true,
      metadata: { run: "restart" },
    });
    await client.chat.completions.delete(gone.id);
    await tandem.close();

    tandem = await startTandem(config(), { store: { key }, dataDir, env: ENV });
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      const stored = await client.chat.completions.retrieve(kept.id);
      assert.equal(stored.choices[0]?.message.content, kept.choices[0]?.message.content);
      const list = await client.chat.completions.list({ metadata: { run: "restart" } });
      assert.deepEqual(
        list.data.map((c) => c.id),
        [kept.id],
      );
      const messages = await client.chat.completions.messages.list(kept.id);
      assert.equal(messages.data[0]?.content, "remember me");
      await assert.rejects(client.chat.completions.retrieve(gone.id), OpenAI.NotFoundError);
    } finally {
      await tandem.close();
    }
  });

  it("are behind the server's key like every route", async () => {
    const tandem = await startTandem(config(), { env: ENV, clientKeys: ["sk-tandem"] });
    try {
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "sk-tandem", maxRetries: 0 });
      const created = await client.chat.completions.create({
        model: "oai/gpt-4o-mini",
        messages: [{ role: "user", content: "k" }],
        store: true,
      });
      const stranger = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "wrong", maxRetries: 0 });
      await assert.rejects(stranger.chat.completions.list(), OpenAI.AuthenticationError);
      await assert.rejects(stranger.chat.completions.retrieve(created.id), OpenAI.AuthenticationError);
      await assert.rejects(stranger.chat.completions.messages.list(created.id), OpenAI.AuthenticationError);
      assert.equal((await client.chat.completions.retrieve(created.id)).id, created.id);
      // A page from another web origin is refused, key or not.
      for (const path of [
        "/v1/chat/completions",
        `/v1/chat/completions/${created.id}`,
        `/v1/chat/completions/${created.id}/messages`,
      ]) {
        const res = await fetch(`${tandem.url}${path}`, {
          headers: { origin: "https://evil.example", authorization: "Bearer sk-tandem" },
        });
        assert.equal(res.status, 403, path);
        assert.doesNotMatch(await res.text(), /chatcmpl-/);
      }
    } finally {
      await tandem.close();
    }
  });
});
