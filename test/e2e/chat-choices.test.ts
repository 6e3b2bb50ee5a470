/**
 * Chat completions' `n` > 1 on targets that cannot say it (Anthropic, Ollama, a Responses-only
 * upstream): the choices are fanned out, one request each through the router, and come back as one
 * answer in OpenAI's shape, whole and streamed, through the openai SDK (its stream helper too): each
 * choice's chunks as they come, with its own index and finish, one id, the usage once at the end. A
 * choice whose stream breaks is continued on the route's next target as any answer is; a choice that
 * fails fails the answer. (An OpenAI-compatible upstream answers `n` itself: passthrough-wire-only.test.ts;
 * the local engine: local-chat-custom-tools.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;
let responses: FakeResponsesUpstream;
/** An Ollama upstream answering exactly the lines a test writes (held open, or broken off). */
let lines: ScriptedUpstream;
let tandem: RunningTandem;
let client: OpenAI;

const HI: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Hi" }];

before(async () => {
  [anthropic, ollama, responses] = await Promise.all([
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
  ]);
  lines = await startScriptedUpstream();
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 15000, idleMs: 15000 } };
  tandem = await startTandem(
    {
      providers: {
        an: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"], local: false },
        ol: { kind: "ollama", baseUrl: ollama.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
        rs: { kind: "openai", baseUrl: responses.url, apiKeys: ["env:UP"], responses: "only", local: false },
        held: { kind: "ollama", baseUrl: lines.url, local: false, models: { m: { id: "m" } } },
      },
      routes: {
        "held-only": { tiers: ["held/m"], ...fast },
        "held-then-an": { tiers: [["held/m"], ["an/claude-haiku-4-5"]], ...fast },
        "an-only": { tiers: ["an/claude-haiku-4-5"], ...fast },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([anthropic?.close(), ollama?.close(), responses?.close(), lines?.close()]);
});

/** Each request gets the next answer: "answer 1", "answer 2", ... (the fan-out's requests are told apart by what they got). */
let counter = 0;
beforeEach(() => {
  counter = 0;
  anthropic.requests.length = 0;
  ollama.requests.length = 0;
  responses.requests.length = 0;
  responses.responseBodies.length = 0;
  lines.clear();
  const next = () => `answer ${++counter}`;
  anthropic.script(() => ({ kind: "text", text: next(), usage: { input: 10, output: 3 } }));
  ollama.script(() => ({ kind: "text", text: next(), usage: { input: 10, output: 3 } }));
  responses.script(() => ({ kind: "answer", text: next() }));
});

const TARGETS = {
  Anthropic: { model: "an/claude-haiku-4-5", posts: () => anthropic.requests.filter((r) => r.method === "POST") },
  Ollama: { model: "ol/llama", posts: () => ollama.requests.filter((r) => r.method === "POST") },
  "a Responses-only upstream": { model: "rs/gpt-5-codex", posts: () => responses.requests.filter((r) => r.method === "POST") },
};

for (const [kind, target] of Object.entries(TARGETS)) {
  describe(`n > 1 to ${kind}: fanned out`, () => {
    it("whole: one completion with every choice, each its own request without n", async () => {
      const { data, response } = await client.chat.completions.create({ model: target.model, messages: HI, n: 3 }).withResponse();
      assert.equal(target.posts().length, 3);
      for (const post of target.posts()) assert.equal((post.body as { n?: unknown }).n, undefined);
      assert.deepEqual(
        data.choices.map((c) => c.index),
        [0, 1, 2],
      );
      assert.deepEqual(data.choices.map((c) => c.message.content).sort(), ["answer 1", "answer 2", "answer 3"]);
      for (const choice of data.choices) assert.equal(choice.finish_reason, "stop");
      assert.equal(data.object, "chat.completion");
      assert.equal(data.model, target.model);
      assert.match(data.id, /^chatcmpl-/);
      assert.equal(response.headers.get("x-tandem-target"), target.model);
      assert.equal(response.headers.get("x-tandem-attempts"), "3");
      if (kind !== "a Responses-only upstream") {
        // Each choice was a request: the prompt counts once per choice.
        assert.equal(data.usage?.prompt_tokens, 30);
        assert.equal(data.usage?.completion_tokens, 9);
      }
    });

    it("streamed: every choice's chunks with its own index, one id, its finish, the usage once at the end", async () => {
      const stream = await client.chat.completions.create({
        model: target.model,
        messages: HI,
        n: 2,
        stream: true,
        stream_options: { include_usage: true },
      });
      const texts = ["", ""];
      const finishes: Array<string | null> = [null, null];
      const ids = new Set<string>();
      let usageChunks = 0;
      let afterUsage = 0;
      for await (const chunk of stream) {
        ids.add(chunk.id);
        if (usageChunks > 0) afterUsage++;
        if (chunk.usage) {
          usageChunks++;
          assert.deepEqual(chunk.choices, []);
        }
        for (const choice of chunk.choices) {
          texts[choice.index] += choice.delta.content ?? "";
          if (choice.finish_reason) finishes[choice.index] = choice.finish_reason;
        }
      }
      assert.deepEqual([...texts].sort(), ["answer 1", "answer 2"]);
      assert.deepEqual(finishes, ["stop", "stop"]);
      assert.equal(ids.size, 1);
      assert.equal(usageChunks, 1);
      assert.equal(afterUsage, 0, "the usage chunk is the last");
    });

    it("the SDK's stream helper puts every choice together", async () => {
      const final = await client.chat.completions.stream({ model: target.model, messages: HI, n: 2 }).finalChatCompletion();
      assert.deepEqual(
        final.choices.map((c) => c.index),
        [0, 1],
      );
      assert.deepEqual(final.choices.map((c) => c.message.content).sort(), ["answer 1", "answer 2"]);
      for (const choice of final.choices) assert.equal(choice.finish_reason, "stop");
    });
  });
}

/** One Ollama NDJSON line of an answer. */
function line(content: string, done = false): string {
  const base = { model: "m", created_at: "2026-01-01T00:00:00Z", message: { role: "assistant", content } };
  return `${JSON.stringify(done ? { ...base, done: true, done_reason: "stop", prompt_eval_count: 5, eval_count: 2 } : { ...base, done: false })}\n`;
}

describe("n > 1 fanned out with a seed", () => {
  const seeds = () =>
    ollama.requests
      .filter((r) => r.method === "POST")
      .map((r) => (r.body as { options?: { seed?: number } }).options?.seed)
      .sort((a, b) => (a ?? 0) - (b ?? 0));

  it("gives each choice's request a seed of its own, the client's and on from it, so they differ and repeat", async () => {
    await client.chat.completions.create({ model: "ol/llama", messages: HI, n: 3, seed: 11 });
    assert.deepEqual(seeds(), [11, 12, 13]);
  });

  it("sends no seed without one: each choice is sampled afresh", async () => {
    await client.chat.completions.create({ model: "ol/llama", messages: HI, n: 3 });
    assert.deepEqual(seeds(), [undefined, undefined, undefined]);
  });
});

describe("n > 1 fanned out: choices flow as they come; failover and failures per choice", () => {
  it("a choice that finishes first reaches the client while another is still being written", async () => {
    let sawFinish: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      sawFinish = resolve;
    });
    let readFirst = false;
    let requests = 0;
    // The first request's answer waits after its first line until the client has seen the other
    // choice finish (or, when that never comes, gives up after a while so that the test fails rather than hangs).
    lines.script(() => {
      const slow = ++requests === 1;
      const gate = async () => {
        readFirst = await Promise.race([seen.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
      };
      return {
        kind: "stream",
        contentType: "application/x-ndjson",
        writes: slow ? [line("slow "), gate, line("answer"), line("", true)] : [line("fast "), line("answer"), line("", true)],
      };
    });
    const stream = await client.chat.completions.create({ model: "held-only", messages: HI, n: 2, stream: true });
    const texts = ["", ""];
    for await (const chunk of stream)
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? "";
        if (choice.finish_reason && texts[choice.index]?.startsWith("fast")) sawFinish();
      }
    assert.equal(readFirst, true, "the fast choice's finish reached the client while the slow one was open");
    assert.deepEqual([...texts].sort(), ["fast answer", "slow answer"]);
  });

  it("asks for at most 4 choices at a time until one begins to answer, then the rest, each whole in its place", async () => {
    let open: () => void = () => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    let requests = 0;
    lines.script(() => {
      const n = ++requests;
      return { kind: "stream", contentType: "application/x-ndjson", writes: [() => opened, line(`choice ${n}`), line("", true)] };
    });
    const answer = (async () => {
      const stream = await client.chat.completions.create({ model: "held-only", messages: HI, n: 10, stream: true });
      const texts = Array.from({ length: 10 }, () => "");
      for await (const chunk of stream) for (const choice of chunk.choices) texts[choice.index] += choice.delta.content ?? "";
      return texts;
    })();
    for (let waited = 0; lines.requests.length < 4 && waited < 10_000; waited += 20) await sleep(20);
    await sleep(300);
    assert.equal(lines.requests.length, 4, "no fifth choice asked for while the first four have not begun");
    open();
    const texts = await answer;
    // Every request's answer whole in one place (the requests reach the upstream in any order).
    assert.deepEqual(
      [...texts].sort((a, b) => Number(a.split(" ")[1]) - Number(b.split(" ")[1])),
      Array.from({ length: 10 }, (_, i) => `choice ${i + 1}`),
    );
    assert.equal(lines.requests.length, 10);
  });

  it("a choice whose stream breaks is continued on the route's next target; the other is not disturbed", async () => {
    let requests = 0;
    lines.script(() =>
      ++requests === 1
        ? { kind: "stream", contentType: "application/x-ndjson", writes: [line("broken ")], breakOff: true }
        : { kind: "stream", contentType: "application/x-ndjson", writes: [line("whole "), line("answer"), line("", true)] },
    );
    anthropic.script(() => ({ kind: "text", text: "continued." }));
    const stream = await client.chat.completions.create({ model: "held-then-an", messages: HI, n: 2, stream: true });
    const texts = ["", ""];
    const finishes: Array<string | null> = [null, null];
    for await (const chunk of stream)
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? "";
        if (choice.finish_reason) finishes[choice.index] = choice.finish_reason;
      }
    assert.deepEqual([...texts].sort(), ["broken continued.", "whole answer"]);
    assert.deepEqual(finishes, ["stop", "stop"]);
    assert.equal(anthropic.requests.filter((r) => r.method === "POST").length, 1, "only the broken choice went on elsewhere");
  });

  it("a client that leaves mid-answer stops every choice, and tandem goes on serving", async () => {
    let left: () => void = () => {};
    const gone = new Promise<void>((resolve) => {
      left = resolve;
    });
    lines.script(() => ({
      kind: "stream",
      contentType: "application/x-ndjson",
      writes: [line("first "), () => gone, line("never read"), line("", true)],
    }));
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "held-only", messages: HI, n: 2, stream: true },
      { signal: controller.signal },
    );
    try {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) controller.abort();
    } catch {
      // The SDK ends or throws on its own abort, by version.
    }
    assert.ok(controller.signal.aborted, "the client read a choice's text and left");
    left();
    anthropic.script(() => ({ kind: "text", text: "still here" }));
    const after = await client.chat.completions.create({ model: "an-only", messages: HI, n: 2 });
    assert.deepEqual(
      after.choices.map((c) => c.message.content),
      ["still here", "still here"],
    );
  });

  it("store: true keeps the answer with every choice, whole and streamed", async () => {
    const whole = await client.chat.completions.create({ model: "an-only", messages: HI, n: 2, store: true });
    const kept = await client.chat.completions.retrieve(whole.id);
    assert.deepEqual(
      kept.choices.map((c) => [c.index, c.message.content]),
      whole.choices.map((c) => [c.index, c.message.content]),
    );
    const stream = await client.chat.completions.create({ model: "an-only", messages: HI, n: 2, store: true, stream: true });
    let id = "";
    const texts = ["", ""];
    for await (const chunk of stream) {
      id = chunk.id;
      for (const choice of chunk.choices) texts[choice.index] += choice.delta.content ?? "";
    }
    const streamed = await client.chat.completions.retrieve(id);
    assert.deepEqual(
      streamed.choices.map((c) => c.message.content),
      texts,
    );
  });

  it("a choice that fails fails the answer, in the client's dialect", async () => {
    let requests = 0;
    anthropic.script(() =>
      ++requests === 2 ? { kind: "error", status: 400, message: "bad choice" } : { kind: "text", text: "fine" },
    );
    await assert.rejects(client.chat.completions.create({ model: "an-only", messages: HI, n: 2 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, 400);
      assert.match(err.message, /bad choice/, "the failing choice's own error");
      return true;
    });
  });
});
