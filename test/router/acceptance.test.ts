/**
 * The router's acceptance scenario, cloud part (the local engine's crashes join it once the engine
 * exists): 1,000 mixed streamed and whole requests through the official OpenAI, Anthropic and Ollama
 * clients, with the first tier failing on about 30% of requests in every way an upstream fails
 * (5xx, 429, a stall before the first token, a stall or a break mid-stream), the second tier down
 * (connections refused) and the third healthy: no client sees a failure, every stream is complete
 * and well-formed, every answer names the target that answered. Then every tier down: each request
 * gets a clear error within its deadline, and the server stays healthy.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIScript, type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { seeded } from "../support/seeded-random.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** 1,000 in `npm test`; `npm run test:fast` runs fewer (ACCEPTANCE_TOTAL), the same scenario. */
const TOTAL = Number(process.env.ACCEPTANCE_TOTAL ?? 1000);
const CONCURRENCY = 8;
const FIRST = "The quick brown fox jumps over the lazy dog.";
const THIRD = "Answer from the third tier.";

let flaky: FakeOpenAIUpstream;
let third: FakeAnthropic;
let tandem: RunningTandem;
const faults: Record<string, number> = {};

before(async () => {
  [flaky, third] = await Promise.all([startFakeOpenAI({ models: ["m"] }), startFakeAnthropic({ models: ["c"] })]);
  const random = seeded(42);
  const script: FakeOpenAIScript = () => {
    const roll = random();
    const fault =
      roll < 0.1
        ? "500"
        : roll < 0.15
          ? "429"
          : roll < 0.2
            ? "stall-first"
            : roll < 0.25
              ? "stall-mid"
              : roll < 0.3
                ? "break-mid"
                : "ok";
    faults[fault] = (faults[fault] ?? 0) + 1;
    switch (fault) {
      case "500":
        return { kind: "error", status: 500, message: "internal error" };
      case "429":
        return { kind: "error", status: 429, message: "rate limited", headers: { "retry-after-ms": "20" } };
      case "stall-first":
        return { kind: "raw", body: [], end: "hang" };
      case "stall-mid":
        return { kind: "stall", chunks: ["The quick ", "brown "] };
      case "break-mid":
        return { kind: "broken_stream", chunks: ["The quick ", "brown "] };
      default:
        return { kind: "text", text: FIRST };
    }
  };
  flaky.script(script);
  third.script(() => ({ kind: "text", text: THIRD }));
  tandem = await startTandem(
    {
      providers: {
        flaky: { kind: "openai", baseUrl: flaky.url, models: ["m"] },
        // Nothing listens on port 9: every connection is refused.
        down: { kind: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["m"] },
        third: { kind: "anthropic", baseUrl: third.url, apiKeys: ["env:THIRD_KEY"], models: ["c"] },
      },
      routes: {
        auto: {
          tiers: ["flaky/m", "down/m", "third/c"],
          retry: { attempts: 2, baseMs: 5, maxMs: 50 },
          // Long enough that a healthy tier answers within it on a loaded 2-core machine; the stalls
          // still cost one limit each.
          timeouts: { firstTokenMs: 1500, idleMs: 1500, totalMs: 20_000 },
        },
      },
      // High enough that the flaky tier's breaker stays closed: the point is every request's own recovery.
      breaker: { failureThreshold: 1000, cooldownMs: 1000 },
    },
    { env: { THIRD_KEY: "sk-ant-test" } },
  );
});

after(async () => {
  await tandem?.close();
  await Promise.all([flaky?.close(), third?.close()]);
});

/** A complete answer: the first tier's, the third's, or the first's beginning finished by the third. */
function assertComplete(text: string, context: string): void {
  assert.ok(text === FIRST || text.endsWith(THIRD), `${context}: incomplete answer ${JSON.stringify(text)}`);
}

const TARGETS = new Set(["flaky/m", "third/c"]);

async function one(i: number): Promise<void> {
  const messages = [{ role: "user" as const, content: `Request ${i}` }];
  const kind = i % 6;
  if (kind === 0 || kind === 1) {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    if (kind === 0) {
      const { data, response } = await client.chat.completions.create({ model: "auto", messages }).withResponse();
      assertComplete(data.choices[0]?.message.content ?? "", `openai #${i}`);
      assert.ok(TARGETS.has(response.headers.get("x-tandem-target") ?? ""), `openai #${i} target`);
    } else {
      const { data: stream, response } = await client.chat.completions
        .create({ model: "auto", messages, stream: true })
        .withResponse();
      let text = "";
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assertComplete(text, `openai stream #${i}`);
      assert.equal(finish, "stop", `openai stream #${i} finish`);
      assert.ok(TARGETS.has(response.headers.get("x-tandem-target") ?? ""), `openai stream #${i} target`);
    }
  } else if (kind === 2 || kind === 3) {
    const client = new Anthropic({ baseURL: tandem.url, apiKey: "x", maxRetries: 0 });
    if (kind === 2) {
      const { data, response } = await client.messages.create({ model: "auto", max_tokens: 100, messages }).withResponse();
      assertComplete(data.content.map((b) => (b.type === "text" ? b.text : "")).join(""), `anthropic #${i}`);
      assert.ok(TARGETS.has(response.headers.get("x-tandem-target") ?? ""), `anthropic #${i} target`);
    } else {
      const message = await client.messages.stream({ model: "auto", max_tokens: 100, messages }).finalMessage();
      assertComplete(message.content.map((b) => (b.type === "text" ? b.text : "")).join(""), `anthropic stream #${i}`);
      assert.equal(message.stop_reason, "end_turn");
      assert.ok(TARGETS.has(message.model), `anthropic stream #${i} model names the target: ${message.model}`);
    }
  } else {
    const ollama = new Ollama({ host: tandem.url });
    if (kind === 4) {
      const res = await ollama.chat({ model: "auto", messages, stream: false });
      assertComplete(res.message.content, `ollama #${i}`);
      assert.ok(TARGETS.has(res.model), `ollama #${i} model names the target: ${res.model}`);
    } else {
      let text = "";
      let done = false;
      for await (const part of await ollama.chat({ model: "auto", messages, stream: true })) {
        text += part.message.content;
        done = part.done;
      }
      assertComplete(text, `ollama stream #${i}`);
      assert.ok(done, `ollama stream #${i} ended with done`);
    }
  }
}

describe("acceptance: 1,000 requests through a failing first tier and a dead second one", () => {
  it("gives every client a complete, well-formed answer", async () => {
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await one(next++);
      }),
    );
    const injected = Object.entries(faults)
      .filter(([k]) => k !== "ok")
      .reduce((n, [, v]) => n + v, 0);
    assert.ok(injected > TOTAL * 0.25, `faults were injected: ${JSON.stringify(faults)}`);
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as { targets: { target: string; requests: number }[] };
    assert.ok((status.targets.find((t) => t.target === "third/c")?.requests ?? 0) > 0, "the third tier answered some");
    console.log(
      `# acceptance: ${TOTAL} requests in ${Date.now() - started} ms, faults ${JSON.stringify(faults)}, third tier answered ${status.targets.find((t) => t.target === "third/c")?.requests}`,
    );
  });

  it("with every tier down, answers each request with a clear error within its deadline and stays healthy", async () => {
    flaky.script(() => ({ kind: "error", status: 503, message: "down" }));
    third.script(() => ({ kind: "error", status: 529, message: "overloaded" }));
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        try {
          await client.chat.completions.create({
            model: "auto",
            messages: [{ role: "user", content: `down ${i}` }],
            stream: i % 2 === 0,
          });
          return { ok: true, status: 200, message: "" };
        } catch (err) {
          const e = err as { status?: number; message?: string };
          return { ok: false, status: e.status ?? 0, message: e.message ?? "" };
        }
      }),
    );
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.ok(r.status === 503 || r.status === 504, `status ${r.status}`);
      assert.match(r.message, /flaky\/m: .*down\/m: .*third\/c: /);
    }
    assert.equal((await fetch(`${tandem.url}/health`)).status, 200);
  });
});
