/**
 * The router's acceptance scenario, local part: mixed streamed and whole requests (see TOTAL) through the
 * official OpenAI, Anthropic and Ollama clients to a route whose first tier is the real local engine,
 * second tier a cloud target that is down (connections refused) and third a healthy cloud target,
 * while the engine is killed (SIGKILL) or frozen (SIGSTOP: a hung model) under about 30% of the
 * requests. No client sees a failure, every stream is complete and well-formed, every answer names
 * the target that answered.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import type { Provider } from "../../src/providers/provider.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { longAnswerPieces, makeModelDir, writeLongAnswerModel } from "../support/gguf/index.js";
import { seeded } from "../support/seeded-random.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

/** The whole scenario: about 150 s on 2 cores (LOCAL_ACCEPTANCE_TOTAL=300 for a quicker run by hand). */
const TOTAL = Number(process.env.LOCAL_ACCEPTANCE_TOTAL ?? 1000);
const CONCURRENCY = 4;
const LOCAL = longAnswerPieces(24).join("");
const CLOUD = "Answer from the cloud tier.";
const TARGETS = new Set(["local/long", "cloud/c"]);
/** Chance that a request which sees its first local token then kills or freezes the engine. */
const FAULT_CHANCE = 0.05;
// Every request decodes greedily: the scripted model ranks a second successor after each piece, and
// at the default temperature (0.8) it is sampled about once in 20,000 tokens, which would make a
// correct answer look incomplete about once per 1,000 requests. (The Anthropic SDK's types no longer
// list temperature, which the Messages API still takes.)
const GREEDY_ANTHROPIC = { temperature: 0 } as object;

let tandem: RunningTandem;
let cloud: FakeAnthropic;
let cleanup: () => Promise<void>;
let local: Provider;
const random = seeded(7);
const faults = { kill: 0, freeze: 0 };
/** How many clients have seen a first local token (each a chance to fault). */
let localFirsts = 0;
/**
 * Until both kinds of fault have happened, one is owed every this many first local tokens: on a loaded
 * box the engine misses its 1 s first-token limit often, few requests reach it, and chance alone
 * could leave a kind out (as it did: 66 local answers of 400, no freeze).
 */
const FAULT_AT_LEAST_EVERY = 10;
let affected = 0;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeLongAnswerModel(join(made.dir, "long.gguf"), { tokenCount: 24 });
  cloud = await startFakeAnthropic({ models: ["c"] });
  cloud.script(() => ({ kind: "text", text: CLOUD }));
  tandem = await startTandem(
    {
      providers: {
        local: {
          kind: "llamacpp",
          threads: 1,
          // As many slots as clients: no request spills over for being queued, so what reaches the
          // cloud got there through a local failure.
          parallel: 4,
          maxQueue: 64,
          models: { long: { path: join(made.dir, "long.gguf"), contextSize: 256 } },
        },
        down: { kind: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["m"], local: false },
        cloud: { kind: "anthropic", baseUrl: cloud.url, apiKeys: ["env:CLOUD_KEY"], models: ["c"] },
      },
      routes: {
        auto: {
          tiers: ["local/long", "down/m", "cloud/c"],
          // One attempt per target: a dead or frozen engine is left for the next tier at once, and the
          // requests that come while it restarts wait at most the first-token limit before moving on.
          retry: { attempts: 1 },
          timeouts: { firstTokenMs: 1000, idleMs: 400, totalMs: 20_000 },
        },
      },
      // Breakers stay closed: the point is every request's own recovery, and local keeps getting traffic.
      breaker: { failureThreshold: 100_000, cooldownMs: 1000 },
    },
    { env: { CLOUD_KEY: "sk-ant-test" } },
  );
  local = tandem.server.catalog.slots.get("local")?.provider as Provider;
});

after(async () => {
  await tandem?.close();
  await cloud?.close();
  await cleanup?.();
});

/** Called when a client sees its first local token: sometimes kills or freezes the engine under it. */
function maybeFault(): void {
  const pid = local.engineState?.().pid;
  if (!pid) return;
  localFirsts++;
  const both = faults.kill > 0 && faults.freeze > 0;
  const owed = !both && localFirsts >= FAULT_AT_LEAST_EVERY * (faults.kill + faults.freeze + 1);
  if (!owed && random() >= FAULT_CHANCE) return;
  // Kills and freezes take turns, so both happen in every run.
  if (faults.kill <= faults.freeze) {
    faults.kill++;
    process.kill(pid, "SIGKILL");
  } else {
    // A hung model: the route's idle limit abandons it, and the engine is killed when it ignores the cancel.
    faults.freeze++;
    process.kill(pid, "SIGSTOP");
  }
}

function assertComplete(text: string, context: string): void {
  assert.ok(text === LOCAL || text.endsWith(CLOUD), `${context}: incomplete answer ${JSON.stringify(text)}`);
}

const answeredBy: Record<string, number> = {};

function note(degraded: string | null | undefined, target: string): void {
  answeredBy[target] = (answeredBy[target] ?? 0) + 1;
  if (target !== "local/long" || (degraded && degraded !== "false")) affected++;
}

async function one(i: number): Promise<void> {
  const messages = [{ role: "user" as const, content: `Request ${i}` }];
  const kind = i % 6;
  if (kind === 0 || kind === 1) {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    if (kind === 0) {
      const { data, response } = await client.chat.completions.create({ model: "auto", messages, temperature: 0 }).withResponse();
      assertComplete(data.choices[0]?.message.content ?? "", `openai #${i}`);
      const target = response.headers.get("x-tandem-target") ?? "";
      assert.ok(TARGETS.has(target), `openai #${i} target ${target}`);
      note(response.headers.get("x-tandem-degraded"), target);
    } else {
      const { data: stream, response } = await client.chat.completions
        .create({ model: "auto", messages, stream: true, temperature: 0 })
        .withResponse();
      let text = "";
      let finish: string | null | undefined;
      let switched = false;
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta?.content ?? "";
        if (piece && !text) maybeFault();
        text += piece;
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      if (text !== LOCAL) switched = true;
      assertComplete(text, `openai stream #${i}`);
      assert.equal(finish, "stop", `openai stream #${i} finish`);
      const target = response.headers.get("x-tandem-target") ?? "";
      assert.ok(TARGETS.has(target), `openai stream #${i} target ${target}`);
      note(switched ? "switched" : response.headers.get("x-tandem-degraded"), target);
    }
  } else if (kind === 2 || kind === 3) {
    const client = new Anthropic({ baseURL: tandem.url, apiKey: "x", maxRetries: 0 });
    if (kind === 2) {
      const { data, response } = await client.messages
        .create({ model: "auto", max_tokens: 100, messages, ...GREEDY_ANTHROPIC })
        .withResponse();
      assertComplete(data.content.map((b) => (b.type === "text" ? b.text : "")).join(""), `anthropic #${i}`);
      const target = response.headers.get("x-tandem-target") ?? "";
      assert.ok(TARGETS.has(target), `anthropic #${i} target ${target}`);
      note(response.headers.get("x-tandem-degraded"), target);
    } else {
      const stream = client.messages.stream({ model: "auto", max_tokens: 100, messages, ...GREEDY_ANTHROPIC });
      let first = true;
      stream.on("text", () => {
        if (first) maybeFault();
        first = false;
      });
      const message = await stream.finalMessage();
      const text = message.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      assertComplete(text, `anthropic stream #${i}`);
      assert.equal(message.stop_reason, "end_turn");
      assert.ok(TARGETS.has(message.model), `anthropic stream #${i} model names the target: ${message.model}`);
      note(text === LOCAL ? undefined : "switched", message.model);
    }
  } else {
    const ollama = new Ollama({ host: tandem.url });
    if (kind === 4) {
      const res = await ollama.chat({ model: "auto", messages, stream: false, options: { temperature: 0 } });
      assertComplete(res.message.content, `ollama #${i}`);
      assert.ok(TARGETS.has(res.model), `ollama #${i} model names the target: ${res.model}`);
      note(undefined, res.model);
    } else {
      let text = "";
      let done = false;
      for await (const part of await ollama.chat({ model: "auto", messages, stream: true, options: { temperature: 0 } })) {
        if (part.message.content && !text) maybeFault();
        text += part.message.content;
        done = part.done;
      }
      assertComplete(text, `ollama stream #${i}`);
      assert.ok(done, `ollama stream #${i} ended with done`);
      note(text === LOCAL ? undefined : "switched", "local/long");
    }
  }
}

describe("acceptance: requests while the local engine crashes and hangs under them", () => {
  it("gives every client a complete, well-formed answer naming who answered", async () => {
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) {
          const i = next++;
          // A request that never ends is a failure to report, not a hung suite.
          let timer: NodeJS.Timeout | undefined;
          const limit = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`request #${i} (kind ${i % 6}) did not finish in 30 s`)), 30_000);
          });
          const t0 = Date.now();
          try {
            await Promise.race([one(i), limit]);
          } finally {
            clearTimeout(timer);
            if (process.env.LOCAL_ACCEPTANCE_DEBUG && Date.now() - t0 > 1500)
              console.log(`# slow #${i} kind ${i % 6}: ${Date.now() - t0} ms`);
          }
        }
      }),
    );
    const ms = Date.now() - started;
    const restarts = local.engineState?.().restarts ?? 0;
    console.log(
      `# local acceptance: ${TOTAL} requests in ${ms} ms; engine killed ${faults.kill}x, frozen ${faults.freeze}x, restarted ${restarts}x; ${affected} requests (${Math.round((affected / TOTAL) * 100)}%) were answered past a local failure; first target: ${JSON.stringify(answeredBy)}`,
    );
    assert.ok(faults.kill > 0 && faults.freeze > 0, "both kinds of fault happened");
    assert.ok(affected >= TOTAL * 0.2, `enough requests met a local failure: ${affected}`);
    assert.equal((await fetch(`${tandem.url}/health`)).status, 200);
    // The engine is back and serves locally once the chaos stops. It may still be restarting and
    // reloading the model: that waits here, outside the direct target's 10 s first-token limit.
    await loadLocalModel(tandem, "local/long");
    const ok = await new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 }).chat.completions
      .create({ model: "local/long", messages: [{ role: "user", content: "after" }] })
      .withResponse();
    assert.equal(ok.data.choices[0]?.message.content, LOCAL);
  });
});
