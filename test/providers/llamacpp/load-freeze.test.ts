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
    assert.ok(first.ms < 1500, `failed over after ${first.ms} ms, within the 1 s limit`);

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
    assert.ok(killedAfter <= 2 * GRACE_MS + 1000, `the frozen engine was killed ${killedAfter} ms after it froze`);
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
});
