/**
 * A local model whose slots and queue are full refuses new requests at once (503, 529 to Anthropic
 * clients): the refusal says when to come back (`Retry-After`, and `retry-after-ms` for OpenAI
 * clients) in every dialect, and the official SDKs, which retry a 503/529, wait that long and then
 * get their answer. On a scripted model that never stops ("tick tock ..."), one slot, no queue.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { makeModelDir, writeLoopingModel } from "../support/gguf/index.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
const MODEL = "local/loop";

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeLoopingModel(join(made.dir, "loop.gguf"));
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        parallel: 1,
        maxQueue: 0,
        models: { loop: { path: join(made.dir, "loop.gguf"), contextSize: 4096 } },
      },
    },
    routes: { endless: { tiers: [MODEL], quality: { repetition: false } } },
  });
  await loadLocalModel(tandem, MODEL);
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

/**
 * Holds the model's one slot with an answer that runs until `stop()` (or 3000 tokens): resolves
 * once its first tokens have come, so the slot is taken.
 */
async function occupy(): Promise<{ stop: () => Promise<void> }> {
  const controller = new AbortController();
  const start = () =>
    fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "endless",
        messages: [{ role: "user", content: "Go" }],
        max_tokens: 3000,
        temperature: 0,
        stream: true,
      }),
      signal: controller.signal,
    });
  let res = await start();
  // The previous test's answer, stopped by its client, may hold the slot a moment longer.
  for (const deadline = Date.now() + 10_000; res.status === 503 && Date.now() < deadline; res = await start()) {
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(res.status, 200);
  const reader = res.body?.getReader();
  assert.ok(reader);
  const first = await reader.read();
  assert.ok(!first.done);
  const drained = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // aborted
    }
  })();
  return {
    stop: async () => {
      controller.abort();
      await drained;
    },
  };
}

const post = (path: string, body: object) =>
  fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });

/** A Retry-After in whole seconds, at least 1. */
function retryAfterSeconds(res: Response): number {
  const value = res.headers.get("retry-after");
  assert.ok(value !== null, `a ${res.status} refusal says when to come back (Retry-After)`);
  assert.match(value, /^\d+$/);
  const seconds = Number(value);
  assert.ok(seconds >= 1 && seconds <= 60, `Retry-After ${seconds} s is one a client can act on`);
  return seconds;
}

describe("a local model with no free slot and a full queue", () => {
  it("says when to come back, in every dialect", async () => {
    const busy = await occupy();
    try {
      const openai = await post("/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content: "Hi" }] });
      assert.equal(openai.status, 503);
      assert.equal(((await openai.json()) as { error: { code: string } }).error.code, "server_is_overloaded");
      const seconds = retryAfterSeconds(openai);
      const ms = Number(openai.headers.get("retry-after-ms"));
      assert.ok(ms > 0 && Math.ceil(ms / 1000) === seconds, "retry-after-ms says the same, to the millisecond");

      const responses = await post("/v1/responses", { model: MODEL, input: "Hi" });
      assert.equal(responses.status, 503);
      retryAfterSeconds(responses);

      const anthropic = await post("/v1/messages", {
        model: MODEL,
        max_tokens: 5,
        messages: [{ role: "user", content: "Hi" }],
      });
      assert.equal(anthropic.status, 529);
      assert.equal(((await anthropic.json()) as { error: { type: string } }).error.type, "overloaded_error");
      retryAfterSeconds(anthropic);

      const ollama = await post("/api/chat", { model: MODEL, messages: [{ role: "user", content: "Hi" }], stream: false });
      assert.equal(ollama.status, 503);
      retryAfterSeconds(ollama);

      // What the status tells meanwhile: the one slot busy, nothing waiting, no room to wait.
      const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
        providers: { loaded?: { target: string; load: { slots: number; active: number; queued: number; maxQueue: number } }[] }[];
      };
      const loaded = body.providers.flatMap((p) => p.loaded ?? []).find((m) => m.target === MODEL);
      assert.deepEqual(loaded?.load, { slots: 1, active: 1, queued: 0, maxQueue: 0 });
    } finally {
      await busy.stop();
    }
  });

  /** A fetch for an SDK that records each answer's status and when it came, and frees the slot after the first refusal. */
  function recordingFetch(onRefused: () => void) {
    const answers: { status: number; at: number; retryAfterMs: number }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const seconds = res.headers.get("retry-after");
      const ms = res.headers.get("retry-after-ms");
      answers.push({
        status: res.status,
        at: Date.now(),
        retryAfterMs: ms !== null ? Number(ms) : seconds !== null ? Number(seconds) * 1000 : Number.NaN,
      });
      if (res.status >= 500) onRefused();
      return res;
    };
    return { answers, fetch: recording };
  }

  it("the OpenAI SDK waits as told, retries, and gets its answer", async () => {
    const busy = await occupy();
    let stopping: Promise<void> | undefined;
    const { answers, fetch } = recordingFetch(() => {
      stopping ??= busy.stop();
    });
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 2, fetch });
    try {
      const answer = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 4,
        temperature: 0,
      });
      assert.match(answer.choices[0]?.message.content ?? "", /tick/);
    } finally {
      await (stopping ?? busy.stop());
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [503, 200],
    );
    const [refused, answered] = answers as [(typeof answers)[0], (typeof answers)[0]];
    assert.ok(Number.isFinite(refused.retryAfterMs), "the refusal carried a Retry-After");
    assert.ok(
      answered.at - refused.at >= refused.retryAfterMs - 50,
      `the SDK waited the Retry-After (${refused.retryAfterMs} ms), not its own shorter backoff`,
    );
  });

  it("the Anthropic SDK waits as told after a 529, retries, and gets its answer", async () => {
    const busy = await occupy();
    let stopping: Promise<void> | undefined;
    const { answers, fetch } = recordingFetch(() => {
      stopping ??= busy.stop();
    });
    const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 2, fetch });
    try {
      const answer = await client.messages.create({
        model: MODEL,
        max_tokens: 4,
        messages: [{ role: "user", content: "Hi" }],
      });
      const first = answer.content[0];
      assert.ok(first?.type === "text" && /tick/.test(first.text));
    } finally {
      await (stopping ?? busy.stop());
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [529, 200],
    );
    const [refused, answered] = answers as [(typeof answers)[0], (typeof answers)[0]];
    assert.ok(Number.isFinite(refused.retryAfterMs), "the refusal carried a Retry-After");
    assert.ok(answered.at - refused.at >= refused.retryAfterMs - 50, "the SDK waited the Retry-After");
  });
});
