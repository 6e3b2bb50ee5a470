/**
 * The local engine freezes (SIGSTOP) in the middle of a model load, through the real server: the
 * engine's test load gate (TANDEM_TEST_LOAD_GATE, see providers/llamacpp/worker/model-host.ts) holds
 * the load at a FIFO, as the load of big weights would take its time, so the freeze lands mid-load.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import type { Provider } from "../../src/providers/provider.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

const CLOUD = "Answer from the cloud tier.";

let tandem: RunningTandem;
let cloud: FakeAnthropic;
let local: Provider;
let dir: string;
let gate: string;
const log: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tandem-load-freeze-"));
  gate = join(dir, "load-gate");
  execFileSync("mkfifo", [gate]);
  // The engine child inherits this process's environment when it starts.
  process.env.TANDEM_TEST_LOAD_GATE = gate;
  cloud = await startFakeAnthropic({ models: ["c"] });
  cloud.script(() => ({ kind: "text", text: CLOUD }));
  tandem = await startTandem(
    {
      providers: {
        local: { kind: "llamacpp", threads: 1, models: { stories: { path: sharedModel("stories260K.gguf"), contextSize: 256 } } },
        cloud: { kind: "anthropic", baseUrl: cloud.url, apiKeys: ["env:CLOUD_KEY"], models: ["c"] },
      },
      routes: {
        auto: { tiers: ["local/stories", "cloud/c"], retry: { attempts: 1 }, timeouts: { firstTokenMs: 1000, totalMs: 20_000 } },
      },
    },
    { env: { CLOUD_KEY: "sk-ant-test" }, log },
  );
  local = tandem.server.catalog.slots.get("local")?.provider as Provider;
});

after(async () => {
  delete process.env.TANDEM_TEST_LOAD_GATE;
  await tandem?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe("a local model load that freezes, through the server", () => {
  it("fails the requests waiting on it over within their limits, restarts the engine, and serves locally again", {
    timeout: 60_000,
  }, async () => {
    // A warm-up (Ollama's load request) starts the engine and the load; no first-token limit watches it.
    const warmUp = loadLocalModel(tandem, "local/stories").then(
      () => undefined,
      (err: Error) => err,
    );
    await until("the engine is in the middle of the load", () => log.some((line) => line.includes("test load gate: waiting")));
    const pid = local.engineState?.().pid as number;
    // A slow load is not a sick engine: a probe round keeps the provider healthy, and the status shows the load.
    await tandem.server.health.probeAll();
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      providers: { name: string; probe: { healthy: boolean } | null; engine?: { loading?: { path: string } } }[];
    };
    const shown = status.providers.find((p) => p.name === "local");
    assert.equal(shown?.probe?.healthy, true, JSON.stringify(shown?.probe));
    assert.equal(shown?.engine?.loading?.path, sharedModel("stories260K.gguf"));
    process.kill(pid, "SIGSTOP");
    const frozenAt = Date.now();

    // A request that comes now waits for the frozen load until the route's 1 s first-token limit.
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const sentAt = Date.now();
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Once upon a time" }] })
      .withResponse();
    const tookMs = Date.now() - sentAt;
    assert.equal(data.choices[0]?.message.content, CLOUD);
    assert.equal(response.headers.get("x-tandem-target"), "cloud/c");
    assert.ok(tookMs < 3000, `failed over after ${tookMs} ms (first-token limit 1000 ms)`);

    // The warm-up has no limit of its own: the engine's liveness check ends it.
    const warmUpError = await warmUp;
    assert.match(String(warmUpError), /HTTP 503 .*restarted \(no answer to a liveness check .*: frozen\)/);
    const killedAfter = Date.now() - frozenAt;
    // Liveness is checked every 2 s while a model loads, and a check is given up on after 2 s.
    assert.ok(killedAfter < 6000, `the frozen engine was killed ${killedAfter} ms after it froze`);
    assert.equal(local.engineState?.().restarts, 1);

    // Nothing is wedged: the model loads on a new engine and answers locally.
    await rm(gate);
    await loadLocalModel(tandem, "local/stories");
    const after = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 5 })
      .withResponse();
    assert.equal(after.response.headers.get("x-tandem-target"), "local/stories");
    assert.ok(after.data.choices[0]?.message.content);
    assert.notEqual(local.engineState?.().pid, pid);
  });
});
