/**
 * A model load that freezes (a stopped engine: SIGSTOP, or a native call that holds its event loop)
 * against one that is merely slow. A tiny model loads in milliseconds, so the engine's test load gate
 * (TANDEM_TEST_LOAD_GATE, see worker/model-host.ts) holds each load at a FIFO until the test writes
 * to it: the read holds the engine's one libuv thread, as a real load of big weights does.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { collectChat, GatewayError, type ProviderChatRequest } from "../../../src/core/index.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/index.js";
import { sharedModel } from "../../support/local-models.js";

const STORIES = sharedModel("stories260K.gguf");
const RANDOM = sharedModel("llama-2-tiny-random.gguf");
/** The engine's default: how long a canceled request may take to stop, and the child to answer a liveness check. */
const GRACE_MS = 2000;

function request(overrides: Partial<ProviderChatRequest> = {}): ProviderChatRequest {
  return {
    model: "local/stories",
    upstreamModel: "stories",
    messages: [{ role: "user", content: [{ type: "text", text: "Once upon a time" }] }],
    stream: true,
    maxTokens: 5,
    temperature: 0,
    ...overrides,
  };
}

/** How a promise ended, and after how many ms. */
async function outcome(promise: Promise<unknown>, from: number): Promise<{ error: GatewayError | undefined; ms: number }> {
  try {
    await promise;
    return { error: undefined, ms: Date.now() - from };
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return { error: err, ms: Date.now() - from };
  }
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe("llamacpp engine: a model load that freezes or is slow", () => {
  let dir: string;
  let gate: string;
  let provider: LlamaCppProvider;
  let logs: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tandem-load-freeze-"));
    gate = join(dir, "load-gate");
    process.env.TANDEM_TEST_LOAD_GATE = gate;
  });

  after(async () => {
    delete process.env.TANDEM_TEST_LOAD_GATE;
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    execFileSync("mkfifo", [gate]);
    logs = [];
    provider = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      threads: 1,
      onLog: (line) => logs.push(line),
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
  });

  afterEach(async () => {
    await rm(gate, { force: true });
    await provider.close();
  });

  const atGate = () => logs.some((line) => line.includes("test load gate: waiting"));

  it("restarts an engine frozen while loading: the waiting request fails over in its deadline, a warm-up fails retryably, the next request succeeds", {
    timeout: 30_000,
  }, async () => {
    // A warm-up (Ollama's load request, as after POST /api/pull): nothing cancels it.
    const warmUp = outcome(provider.preload("stories", undefined, new AbortController().signal), Date.now());
    await until("the engine is in the middle of the load", atGate);
    const pid = provider.engine.pid as number;
    process.kill(pid, "SIGSTOP");
    const frozenAt = Date.now();
    // Requests that come while it is frozen wait for the load: one with the router's first-token
    // limit of 1 s (which cancels the attempt), one with none.
    const limited = outcome(collectChat(provider.chat(request(), AbortSignal.timeout(1000))), frozenAt);
    const unlimited = outcome(collectChat(provider.chat(request(), new AbortController().signal)), frozenAt);

    const first = await limited;
    assert.equal(first.error?.code, "canceled", "the router sees its own limit pass and fails over");
    assert.ok(first.ms < 2000, `failed over after ${first.ms} ms, at the 1 s limit`);

    for (const [what, waited] of [
      ["the warm-up", warmUp],
      ["the request with no limit", unlimited],
    ] as const) {
      const { error } = await waited;
      assert.equal(error?.code, "unavailable", what);
      assert.equal(error?.retryable, true, `${what}: a frozen engine is no fault of the file, the router retries or fails over`);
      assert.match(error?.message ?? "", /restarted \(no answer to a liveness check .*: frozen\)/);
    }
    const killedAfter = Date.now() - frozenAt;
    // A check goes out at most a grace period after the freeze and is given up on a grace period later.
    assert.ok(killedAfter <= 2 * GRACE_MS + 2000, `the frozen engine was killed ${killedAfter} ms after it froze`);
    assert.equal(provider.engine.state().restarts, 1);
    assert.equal(provider.engine.running, false);

    // The load is not wedged: the next request starts a new engine and loads the model again.
    await rm(gate);
    const next = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(next.usage.outputTokens, 5);
    assert.notEqual(provider.engine.pid, pid);
  });

  it("does not kill a slow load that holds the engine's thread pool, even when a request waiting on it gives up", {
    timeout: 30_000,
  }, async () => {
    const warmUp = provider.preload("stories", undefined, new AbortController().signal);
    const waiting = outcome(collectChat(provider.chat(request(), AbortSignal.timeout(300))), Date.now());
    await until("the engine is in the middle of the load", atGate);
    const pid = provider.engine.pid;
    assert.equal((await waiting).error?.code, "canceled");
    // Longer than the grace twice over: a hang check counting from the cancel, or a ping that needs
    // the thread pool (the status ping reads memory through it), would have killed the engine by now.
    await sleep(2.5 * GRACE_MS);
    assert.equal(provider.engine.state().restarts, 0);
    assert.equal(provider.engine.pid, pid);
    await writeFile(gate, "go");
    await warmUp;
    const next = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(next.usage.outputTokens, 5);
    assert.equal(provider.engine.pid, pid, "the same engine loaded the model and answered");
    assert.equal(provider.engine.state().restarts, 0);
  });
  it("kills an engine whose load makes no progress though it still answers (a native load step that never returns)", {
    timeout: 30_000,
  }, async () => {
    const stuck = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      threads: 1,
      hangTimeoutMs: 1500,
      onLog: (line) => logs.push(line),
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
    try {
      // The gate is never opened: the load's native step (here, the FIFO's open) never returns, while
      // the engine's event loop stays free and answers every liveness check.
      const warmUp = outcome(stuck.preload("stories", undefined, new AbortController().signal), Date.now());
      await until("the engine is in the middle of the load", atGate);
      const gatedAt = Date.now();
      const pid = stuck.engine.pid;
      const { error } = await warmUp;
      const stuckFor = Date.now() - gatedAt;
      assert.equal(error?.code, "unavailable");
      assert.equal(error?.retryable, true);
      assert.match(error?.message ?? "", /restarted \(a model load made no progress for 1500 ms \(hung\)\)/);
      // The limit is checked every grace period, with the liveness check.
      assert.ok(stuckFor < 1500 + GRACE_MS + 1500, `ended ${stuckFor} ms into the stuck load`);
      assert.equal(stuck.engine.state().restarts, 1);
      await rm(gate);
      const next = await collectChat(stuck.chat(request(), new AbortController().signal));
      assert.equal(next.usage.outputTokens, 5);
      assert.notEqual(stuck.engine.pid, pid);
    } finally {
      await stuck.close();
    }
  });
});

describe("llamacpp engine: the hang check after a cancel", () => {
  let dir: string;
  let gate: string;
  let provider: LlamaCppProvider;
  let logs: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tandem-hang-check-"));
    gate = join(dir, "load-gate");
    process.env.TANDEM_TEST_LOAD_GATE = gate;
  });

  after(async () => {
    delete process.env.TANDEM_TEST_LOAD_GATE;
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    logs = [];
    provider = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      threads: 1,
      onLog: (line) => logs.push(line),
      models: {
        // A long answer's window: at about 1 ms a token, 256 filled up (the answer ended as `length`)
        // before a loaded machine's other load reached the gate, and there was nothing left to cancel.
        stories: { path: STORIES, contextSize: 1024 },
        tiny: { path: RANDOM, contextSize: 256 },
      },
    });
  });

  afterEach(async () => {
    await rm(gate, { force: true });
    await provider.close();
  });

  const atGate = () => logs.some((line) => line.includes("test load gate: waiting"));

  /** A long generation on stories that the caller cancels; resolves with the error it ended with. */
  function longChat(signal: AbortSignal, onToken: (n: number) => void = () => {}): Promise<GatewayError | undefined> {
    let tokens = 0;
    return outcome(
      (async () => {
        for await (const ev of provider.chat(request({ maxTokens: 100_000 }), signal)) {
          if (ev.type === "text-delta") onToken(++tokens);
        }
      })(),
      Date.now(),
    ).then((o) => o.error);
  }

  it("still kills an engine that freezes mid-generation once a canceled generation does not stop", {
    timeout: 30_000,
  }, async () => {
    const controller = new AbortController();
    let frozenAt = 0;
    const pid = await new Promise<number>((resolve, reject) => {
      longChat(controller.signal, (n) => {
        if (n !== 3) return;
        const child = provider.engine.pid as number;
        process.kill(child, "SIGSTOP");
        frozenAt = Date.now();
        controller.abort();
        resolve(child);
      }).then((err) => assert.equal(err?.code, "canceled"), reject);
    });
    await until("the engine is killed", () => provider.engine.state().restarts === 1);
    const killedAfter = Date.now() - frozenAt;
    assert.ok(killedAfter < GRACE_MS + 2000, `killed ${killedAfter} ms after the cancel`);
    assert.match(provider.engine.state().lastExit ?? "", /a canceled request did not stop within 2000 ms/);
    const next = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(next.usage.outputTokens, 5);
    assert.notEqual(provider.engine.pid, pid);
  });

  it("does not take a generation canceled while another model's load holds the thread pool for hung", {
    timeout: 30_000,
  }, async () => {
    const controller = new AbortController();
    let tinyLoad: Promise<void> | undefined;
    const canceled = longChat(controller.signal, (n) => {
      if (n !== 3) return;
      // From here on every load waits at the gate, holding the engine's one libuv thread.
      execFileSync("mkfifo", [gate]);
      tinyLoad = provider.preload("tiny", undefined, new AbortController().signal);
    });
    await until("the other model's load holds the thread pool", atGate);
    const pid = provider.engine.pid;
    controller.abort();
    assert.equal((await canceled)?.code, "canceled");
    await sleep(2.5 * GRACE_MS);
    assert.equal(provider.engine.state().restarts, 0, provider.engine.state().lastExit);
    await writeFile(gate, "go");
    await tinyLoad;
    const next = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(next.usage.outputTokens, 5);
    assert.equal(provider.engine.pid, pid);
    assert.equal(provider.engine.state().restarts, 0);
  });

  it("answers a health probe while a model loads, and does not kill the engine when a status ping gives up on the load", {
    timeout: 30_000,
  }, async () => {
    execFileSync("mkfifo", [gate]);
    const warmUp = provider.preload("stories", undefined, new AbortController().signal);
    await until("the engine is in the middle of the load", atGate);
    const pid = provider.engine.pid;
    assert.equal(provider.engine.loading, true);
    assert.equal(provider.engineState().loading?.path, STORIES, "the status names the file being loaded");
    // The health probe asks only that the engine answers: a loading engine is not an unhealthy one.
    const probe = await outcome(provider.probe(AbortSignal.timeout(1000)), Date.now());
    assert.equal(probe.error, undefined, probe.error?.message);
    assert.ok(probe.ms < 1000, `the probe took ${probe.ms} ms`);
    // The status ping waits for the load (and reads memory through the thread pool the load holds);
    // giving up on it is no sign of a hung engine.
    const ping = await outcome(provider.engine.ping(AbortSignal.timeout(300)), Date.now());
    assert.equal(ping.error?.code, "canceled");
    await sleep(2.5 * GRACE_MS);
    assert.equal(provider.engine.state().restarts, 0, provider.engine.state().lastExit);
    await writeFile(gate, "go");
    await warmUp;
    assert.equal(provider.engine.loading, false);
    assert.equal(provider.engineState().loading, undefined);
    await provider.probe(AbortSignal.timeout(5000));
    assert.equal(provider.engine.pid, pid);
  });

  it("does not take a canceled generation for hung when this process was too busy to read its confirmation", {
    timeout: 30_000,
  }, async () => {
    const controller = new AbortController();
    const canceled = longChat(controller.signal, (n) => {
      if (n !== 3) return;
      controller.abort();
      // This process stalls past the grace (a long synchronous task, or no CPU for it on a loaded
      // machine) while the engine confirms the cancel at once.
      const until = Date.now() + 1.5 * GRACE_MS;
      while (Date.now() < until);
    });
    assert.equal((await canceled)?.code, "canceled");
    await sleep(500);
    assert.equal(provider.engine.state().restarts, 0, provider.engine.state().lastExit);
  });
});
