import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { GatewayError } from "../../src/core/index.js";
import { isNetworkFailure, NetworkWatch } from "../../src/router/network-watch.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

/** A loopback port nothing listens on (connections are refused, as with no network). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("NetworkWatch", () => {
  it("goes offline when two cloud providers fail at the connection level at once, lets a trial through, and recovers on success", () => {
    let now = 1_000_000;
    const watch = new NetworkWatch({ now: () => now, windowMs: 10_000, trialEveryMs: 5000 });
    watch.failure("a");
    assert.equal(watch.offlineSince, undefined, "one provider down is that provider's problem");
    now += 20_000;
    watch.failure("b");
    assert.equal(watch.offlineSince, undefined, "failures far apart are not 'at once'");
    now += 1000;
    watch.failure("a");
    assert.equal(watch.offlineSince, now);
    assert.equal(watch.skipCloud(), true);
    now += 5000;
    assert.equal(watch.skipCloud(), false, "a trial request every 5 s");
    assert.equal(watch.skipCloud(), true);
    watch.success();
    assert.equal(watch.offlineSince, undefined);
    assert.equal(watch.skipCloud(), false);
  });

  it("tells connection failures from upstream answers", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    assert.equal(isNetworkFailure(GatewayError.from(refused)), true);
    assert.equal(isNetworkFailure(new GatewayError("upstream_error", "HTTP 500")), false);
  });
});

describe("network loss through the router", () => {
  let tandem: RunningTandem;
  let cleanup: () => Promise<void>;

  before(async () => {
    const made = await makeModelDir();
    cleanup = made.cleanup;
    await writeChatModel(join(made.dir, "chat.gguf"));
    const [a, b] = [await closedPort(), await closedPort()];
    tandem = await startTandem(
      {
        providers: {
          // Loopback ports standing for remote APIs behind a dead network.
          openai: {
            kind: "openai",
            baseUrl: `http://127.0.0.1:${a}/v1`,
            apiKeys: ["env:K"],
            models: ["gpt-4o-mini"],
            local: false,
          },
          claude: {
            kind: "anthropic",
            baseUrl: `http://127.0.0.1:${b}`,
            apiKeys: ["env:K"],
            models: ["claude-haiku-4-5"],
            local: false,
          },
          local: { kind: "llamacpp", threads: 1, models: { chat: { path: join(made.dir, "chat.gguf"), contextSize: 512 } } },
        },
        routes: {
          // Cloud first on purpose: with the network down, the local tier must answer without waiting on the cloud.
          auto: {
            tiers: ["openai/gpt-4o-mini", "claude/claude-haiku-4-5", "local/chat"],
            retry: { attempts: 1 },
            // The subject is the network watch, not the first-token limit.
            timeouts: PATIENT_TIMEOUTS,
          },
        },
      },
      { env: { K: "sk-test" } },
    );
  });

  after(async () => {
    await tandem?.close();
    await cleanup?.();
  });

  it("recognises that every cloud provider is unreachable and serves locally, saying so", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    // The engine warm first (its start and the model's load outside any first-token limit), so the two
    // requests below come well inside the 5 s between cloud trials.
    await loadLocalModel(tandem, "local/chat");
    const first = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(first.data.choices[0]?.message.content, "Hello from tandem.");
    assert.match(first.response.headers.get("x-tandem-degraded") ?? "", /openai\/gpt-4o-mini: unavailable/);

    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as { network: { offline: boolean; since?: string } };
    assert.equal(status.network.offline, true);

    const second = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(second.response.headers.get("x-tandem-target"), "local/chat");
    assert.match(second.response.headers.get("x-tandem-degraded") ?? "", /openai\/gpt-4o-mini: offline/);
  });
});
