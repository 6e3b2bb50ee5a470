import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { collectChat, GatewayError, type ProviderChatRequest, type StreamEvent } from "../../../src/core/index.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/index.js";
import { writeEngineCrashingModel } from "../../support/gguf/index.js";
import { sharedModel } from "../../support/local-models.js";
import { providerConformance } from "../conformance.js";

const STORIES = sharedModel("stories260K.gguf");
const RANDOM = sharedModel("llama-2-tiny-random.gguf");

function request(overrides: Partial<ProviderChatRequest> = {}): ProviderChatRequest {
  return {
    model: "local/stories",
    upstreamModel: "stories",
    messages: [{ role: "user", content: [{ type: "text", text: "Once upon a time" }] }],
    stream: true,
    maxTokens: 40,
    temperature: 0,
    ...overrides,
  };
}

async function events(provider: LlamaCppProvider, req: ProviderChatRequest, signal = new AbortController().signal) {
  const out: StreamEvent[] = [];
  for await (const ev of provider.chat(req, signal)) out.push(ev);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the request to fail");
}

describe("llamacpp provider on the real engine", () => {
  let dir: string;
  let provider: LlamaCppProvider;
  const logs: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tandem-engine-"));
    await writeFile(join(dir, "random-bytes.gguf"), Buffer.alloc(4096, 7));
    const truncated = await open(join(dir, "truncated.gguf"), "w");
    const whole = await (await import("node:fs/promises")).readFile(STORIES);
    await truncated.write(whole.subarray(0, Math.floor(whole.length / 2)));
    await truncated.close();
    await writeEngineCrashingModel(join(dir, "aborts.gguf"));
    provider = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      threads: 1,
      parallel: 2,
      maxQueue: 1,
      onLog: (line) => logs.push(line),
      models: {
        stories: { path: STORIES, contextSize: 512 },
        tiny: { path: RANDOM, contextSize: 256, parallel: 1 },
        truncated: { path: "truncated.gguf" },
        noise: { path: "random-bytes.gguf" },
        missing: { path: "nowhere.gguf" },
        aborts: { path: "aborts.gguf" },
      },
    });
  });

  after(async () => {
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("streams a greedy answer with start, text, usage and finish, the same twice", async () => {
    const first = await events(provider, request());
    assert.equal(first[0]?.type, "start");
    assert.equal(first.at(-1)?.type, "finish");
    const texts = first.filter((e) => e.type === "text-delta");
    assert.ok(texts.length > 10, "tokens arrive one by one");
    const result = await collectChat(
      (async function* () {
        yield* first;
      })(),
    );
    assert.match(result.text, /[a-z]+ [a-z]+/);
    assert.equal(result.finishReason, "length");
    assert.equal(result.usage.outputTokens, 40);
    assert.ok(result.usage.inputTokens > 3);
    const again = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(again.text, result.text);
  });

  it("samples afresh for every request without a seed (or with Ollama's -1), and repeats a seeded one", async () => {
    const text = async (req: ProviderChatRequest) => (await collectChat(provider.chat(req, new AbortController().signal))).text;
    /** Two requests at once (the model's two slots): they start in the same second, which once seeded both alike. */
    const pair = (req: ProviderChatRequest) => Promise.all([text(req), text(req)]);
    const sampled = request({ temperature: 1, maxTokens: 40 });
    for (let i = 0; i < 3; i++) {
      const [a, b] = await pair(sampled);
      assert.notEqual(a, b, `two unseeded answers at temperature 1 differ (try ${i + 1})`);
    }
    const [a, b] = await pair(request({ temperature: 1, maxTokens: 40, seed: -1 }));
    assert.notEqual(a, b, "-1, Ollama's default, is a random seed");
    const seeded = request({ temperature: 1, maxTokens: 40, seed: 42 });
    const [first, again] = await pair(seeded);
    assert.equal(again, first, "the same seed, the same answer");
    assert.equal(await text(seeded), first);
    // Other negative seeds are seeds of their own (wrapped to 32 bits, as llama.cpp and Ollama take
    // them), not all one seed.
    const minusTwo = await text(request({ temperature: 1, maxTokens: 40, seed: -2 }));
    assert.equal(await text(request({ temperature: 1, maxTokens: 40, seed: -2 })), minusTwo);
    assert.notEqual(await text(request({ temperature: 1, maxTokens: 40, seed: -3 })), minusTwo);
    assert.notEqual(await text(request({ temperature: 1, maxTokens: 40, seed: 43 })), first);
  });

  it("applies presence and frequency penalties: a greedy answer changes with them, the same each time", async () => {
    const plain = await collectChat(provider.chat(request(), new AbortController().signal));
    const penalised = request({ presencePenalty: 1.5, frequencyPenalty: 1.5 });
    assert.deepEqual(provider.unsent(penalised), [], "nothing named as not sent");
    const first = await collectChat(provider.chat(penalised, new AbortController().signal));
    const again = await collectChat(provider.chat(penalised, new AbortController().signal));
    assert.notEqual(first.text, plain.text);
    assert.equal(again.text, first.text);
    // Fewer repeated words in the same number of tokens.
    const repeats = (text: string) => {
      const words = text.split(/\s+/).filter(Boolean);
      return words.length - new Set(words).size;
    };
    assert.ok(repeats(first.text) < repeats(plain.text), `${first.text} | ${plain.text}`);
  });

  it("honours stop sequences and reports which one stopped it", async () => {
    const full = await collectChat(provider.chat(request({ maxTokens: 60 }), new AbortController().signal));
    const word = full.text.split(/\s+/).filter((w) => w.length > 3)[2] as string;
    const stopped = await collectChat(provider.chat(request({ maxTokens: 60, stop: [word] }), new AbortController().signal));
    assert.ok(full.text.startsWith(stopped.text), "same prefix");
    assert.ok(!stopped.text.includes(word));
    assert.equal(stopped.finishReason, "stop");
    assert.equal(stopped.stopSequence, word);
  });

  it("gives JSON that matches the requested schema", async () => {
    const schema = {
      type: "object",
      properties: { answer: { type: "string", enum: ["yes", "no"] }, count: { type: "integer" } },
      required: ["answer", "count"],
    };
    const result = await collectChat(
      provider.chat(request({ maxTokens: 60, responseFormat: { type: "json_schema", schema } }), new AbortController().signal),
    );
    const parsed = JSON.parse(result.text) as { answer: string; count: number };
    assert.ok(["yes", "no"].includes(parsed.answer));
    assert.equal(typeof parsed.count, "number");
  });

  it("sends a forced tool call cut off by the token limit or the window's end as far as it was written, as length", async () => {
    const forced = (maxTokens: number | undefined) =>
      request({
        upstreamModel: "tiny",
        maxTokens,
        tools: [{ name: "get_w", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
        toolChoice: { name: "get_w" },
      });
    // The random model writes the city's string on and on (greedily): the limit, or the 256-token window, cuts it.
    for (const maxTokens of [30, undefined]) {
      const result = await collectChat(provider.chat(forced(maxTokens), new AbortController().signal));
      assert.equal(result.finishReason, "length", `maxTokens ${maxTokens}`);
      assert.equal(result.rawFinishReason, maxTokens === undefined ? "contextFull" : "maxTokens");
      assert.equal(result.text, "");
      assert.deepEqual(
        result.toolCalls.map((c) => c.name),
        ["get_w"],
      );
      const args = result.toolCalls[0]?.arguments ?? "";
      assert.match(args, /^\{\s*"city"\s*:\s*"/, `the arguments so far (maxTokens ${maxTokens})`);
      assert.throws(() => JSON.parse(args), "cut before they closed");
    }
  });

  it("embeds with the model's dimension and counts tokens with its tokenizer", async () => {
    const result = await provider.embed(
      { model: "local/stories", upstreamModel: "stories", input: ["a cat", "a dog sat"] },
      new AbortController().signal,
    );
    // The shape of embeddings is the conformance suite's (below); here, this model's own numbers.
    assert.equal(result.embeddings[0]?.length, 64);
    assert.ok(result.usage.inputTokens >= 4);
    // A chat request's count is its prompt as the model's template renders it, as its usage says.
    for (const upstreamModel of ["tiny", "stories"]) {
      const asked = request({ upstreamModel, maxTokens: 1 });
      const counted = await provider.countTokens(upstreamModel, asked, new AbortController().signal);
      const used = (await collectChat(provider.chat(asked, new AbortController().signal))).usage?.inputTokens;
      assert.equal(counted, used, upstreamModel);
      assert.ok(counted > 4, `${upstreamModel}: ${counted}, more than the text's own 4 tokens`);
    }
  });

  it("serves requests in parallel up to its slots, queues one, refuses the next as overloaded", async () => {
    const long = () => collectChat(provider.chat(request({ maxTokens: 150 }), new AbortController().signal));
    const running = [long(), long(), long()];
    // Until the third is queued (a few ms on a quiet box; the bound is for a loaded one).
    for (let i = 0; i < 1000 && provider.load("stories")?.queued !== 1; i++) await sleep(10);
    assert.deepEqual(provider.load("stories"), { slots: 2, active: 2, queued: 1, maxQueue: 1 });
    const refused = await failure(long());
    assert.equal(refused.code, "overloaded");
    const results = await Promise.all(running);
    for (const r of results) assert.equal(r.usage.outputTokens, 150);
    assert.deepEqual(provider.load("stories"), { slots: 2, active: 0, queued: 0, maxQueue: 1 });
  });

  it("frees a canceled request's slot at once", async () => {
    const controller = new AbortController();
    let seen = 0;
    const canceled = (async () => {
      for await (const ev of provider.chat(request({ upstreamModel: "tiny", maxTokens: 100_000 }), controller.signal)) {
        if (ev.type === "text-delta" && ++seen === 5) controller.abort();
      }
    })();
    const err = await failure(canceled);
    assert.equal(err.code, "canceled");
    assert.deepEqual(provider.load("tiny")?.active, 0);
    const next = await collectChat(provider.chat(request({ upstreamModel: "tiny", maxTokens: 5 }), new AbortController().signal));
    assert.equal(next.usage.outputTokens, 5);
  });

  it("refuses a truncated, a random-bytes and a missing file with a clear error and keeps serving", async () => {
    for (const [model, pattern] of [
      ["truncated", /truncated\.gguf/],
      ["noise", /not a GGUF file/],
      ["missing", /cannot be read \(ENOENT\)/],
    ] as const) {
      const err = await failure(collectChat(provider.chat(request({ upstreamModel: model }), new AbortController().signal)));
      assert.equal(err.code, "unavailable");
      assert.equal(err.retryable, false);
      assert.match(err.message, pattern);
    }
    const ok = await collectChat(provider.chat(request({ maxTokens: 5 }), new AbortController().signal));
    assert.equal(ok.usage.outputTokens, 5);
  });

  it("survives a SIGKILL of the engine mid-stream: that request fails retryably, the next succeeds", async () => {
    const pid = provider.engine.pid;
    assert.ok(pid);
    let seen = 0;
    const broken = (async () => {
      for await (const ev of provider.chat(
        request({ maxTokens: 100_000, upstreamModel: "tiny" }),
        new AbortController().signal,
      )) {
        if (ev.type === "text-delta" && ++seen === 3) process.kill(pid, "SIGKILL");
      }
    })();
    const err = await failure(broken);
    assert.equal(err.code, "unavailable");
    assert.equal(err.retryable, true);
    assert.match(err.message, /local engine stopped \(signal SIGKILL\)/);
    const next = await collectChat(provider.chat(request({ maxTokens: 5 }), new AbortController().signal));
    assert.equal(next.usage.outputTokens, 5);
    assert.notEqual(provider.engine.pid, pid);
  });

  it("keeps a native abort while loading inside the engine, and then refuses that file", async () => {
    await collectChat(provider.chat(request({ maxTokens: 1 }), new AbortController().signal)); // an engine runs
    const pid = provider.engine.pid;
    assert.ok(pid);
    // Without it, ggml attaches gdb (where installed) to print a backtrace before aborting: seconds in
    // which the engine answers no liveness check, so a loaded machine took the crash for a freeze.
    const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => undefined);
    if (environ !== undefined)
      assert.ok(environ.split("\0").includes("GGML_NO_BACKTRACE=1"), "the engine runs without ggml's gdb backtrace");
    const first = await failure(collectChat(provider.chat(request({ upstreamModel: "aborts" }), new AbortController().signal)));
    assert.equal(first.code, "unavailable");
    assert.equal(first.retryable, false, `retrying would only crash the engine again (${first.message})`);
    assert.match(first.message, /stopped \(signal SIGABRT\) while loading .*aborts\.gguf/);
    assert.notEqual(provider.engine.pid, pid);
    const again = await failure(collectChat(provider.chat(request({ upstreamModel: "aborts" }), new AbortController().signal)));
    assert.match(again.message, /aborts\.gguf crashed the engine/);
    assert.equal(provider.engine.state().restarts >= 1, true);
    const ok = await collectChat(provider.chat(request({ maxTokens: 5 }), new AbortController().signal));
    assert.equal(ok.usage.outputTokens, 5);
  });

  it("lists the models of the data dir when none are configured", async () => {
    await mkdir(join(dir, "models"), { recursive: true });
    await copyFile(STORIES, join(dir, "models", "stories260K.gguf"));
    const fromDir = new LlamaCppProvider({ id: "local", dataDir: dir, models: {}, threads: 1 });
    try {
      assert.deepEqual(
        (await fromDir.listModels()).map((m) => m.id),
        ["stories260K"],
      );
      await fromDir.probe(new AbortController().signal);
    } finally {
      await fromDir.close();
    }
  });
});

describe("llamacpp provider lifecycle", () => {
  it("unloads a model after its keep-alive, and Ollama's keep_alive overrides it", async () => {
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: tmpdir(),
      threads: 1,
      keepAliveMs: 150,
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
    try {
      await collectChat(provider.chat(request({ maxTokens: 3 }), new AbortController().signal));
      assert.equal(provider.loadedModels().length, 1);
      assert.ok(provider.loadedModels()[0]?.expiresAt);
      await sleep(400);
      assert.equal(provider.loadedModels().length, 0);
      assert.equal((await provider.engine.ping())?.models.length, 0, "the engine freed it too");

      await collectChat(provider.chat(request({ maxTokens: 3, keepAliveMs: -1 }), new AbortController().signal));
      await sleep(300);
      assert.equal(provider.loadedModels()[0]?.expiresAt, undefined, "kept forever");
      await provider.preload("stories", 0, new AbortController().signal);
      assert.equal(provider.loadedModels().length, 0, "keep_alive 0 unloads");
    } finally {
      await provider.close();
    }
  });

  it("kills and restarts a hung engine: a stopped process fails its request with a timeout", async () => {
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: tmpdir(),
      threads: 1,
      hangTimeoutMs: 300,
      onLog: () => {},
      models: { tiny: { path: RANDOM, contextSize: 256 } },
    });
    try {
      let seen = 0;
      const hung = (async () => {
        for await (const ev of provider.chat(
          request({ upstreamModel: "tiny", maxTokens: 100_000 }),
          new AbortController().signal,
        )) {
          if (ev.type === "text-delta" && ++seen === 3) {
            process.kill(provider.engine.pid as number, "SIGSTOP");
          }
        }
      })();
      const err = await failure(hung);
      // A stopped process never answers: only the 300 ms hang limit can have ended the request.
      assert.equal(err.code, "timeout");
      assert.match(err.message, /sent nothing for 300 ms/);
      const next = await collectChat(
        provider.chat(request({ upstreamModel: "tiny", maxTokens: 3 }), new AbortController().signal),
      );
      assert.equal(next.usage.outputTokens, 3);
      assert.equal(provider.engine.state().restarts, 1);
    } finally {
      await provider.close();
    }
  });
});

let conformanceDir = "";
providerConformance({
  name: "llamacpp",
  setup: async () => {
    conformanceDir = await mkdtemp(join(tmpdir(), "tandem-engine-conformance-"));
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: conformanceDir,
      threads: 1,
      models: { stories: { path: STORIES, contextSize: 512 } },
    });
    return { provider, model: "stories" };
  },
  teardown: async ({ provider }) => {
    await provider.close();
    await rm(conformanceDir, { recursive: true, force: true });
  },
  skip: {
    "tool-calls": "the tiny test models do not call tools; the engine's forced tool calls are in test/e2e/local-tools.test.ts",
    whole: "the engine always streams (answersWhole is not set), so its time limits keep watching tokens",
    "rate-limit": "no HTTP upstream: a busy engine refuses as overloaded instead (tested above)",
    "server-errors": "no HTTP upstream: the engine's crashes and hangs are tested above",
    "broken-stream": "no HTTP upstream: an engine killed mid-stream is tested above",
    unreachable: "no upstream address: the engine is a child process",
  },
});
