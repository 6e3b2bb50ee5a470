/**
 * TandemServer.shutdown in process: a request that arrives once it has begun is refused with a 503
 * in its own dialect; an Ollama stream past the grace period ends with Ollama's `{"error":...}` line;
 * and the aborts of the shutdown are no failure of the target (no upstream error counted, nothing
 * held against its breaker), as a client's disconnect is not.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startSlowUpstream } from "../support/slow-openai-upstream.js";
import { PATIENT_TIMEOUTS, startTandem } from "../support/tandem.js";

describe("TandemServer.shutdown", () => {
  it("refuses new requests in their dialect, ends an Ollama stream in-band, and counts nothing against the target", async () => {
    const upstream = await startSlowUpstream();
    after(() => upstream.close());
    const tandem = await startTandem(
      {
        providers: { oa: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K"], local: false, models: ["slow"] } },
        routes: { slowr: { tiers: ["oa/slow"], retry: { attempts: 1 }, timeouts: PATIENT_TIMEOUTS } },
      } as never,
      { env: { K: "sk-up" } },
    );
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "slowr", messages: [{ role: "user", content: "ms:30000" }] }),
    });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("w0")) text += decoder.decode((await reader.read()).value, { stream: true });

    const stopped = tandem.server.shutdown(300);
    // Requests that arrive now (on a connection already open, here injected) are refused in their dialect.
    const inject = (url: string) =>
      tandem.server.app.inject({
        method: "POST",
        url,
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        payload: { model: "slowr", max_tokens: 10, messages: [{ role: "user", content: "hi" }] },
      });
    const [openai, anthropic, ollama] = await Promise.all([
      inject("/v1/chat/completions"),
      inject("/v1/messages"),
      inject("/api/chat"),
    ]);
    for (const refused of [openai, anthropic, ollama]) {
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.headers.connection, "close");
    }
    assert.match((openai.json() as { error: { message: string } }).error.message, /shutting down/);
    assert.equal((anthropic.json() as { type: string }).type, "error");
    assert.match((anthropic.json() as { error: { message: string } }).error.message, /shutting down/);
    assert.match((ollama.json() as { error: string }).error, /shutting down/);

    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const last = JSON.parse(text.trimEnd().split("\n").at(-1) ?? "") as { error?: string };
    assert.match(last.error ?? "", /shutting down/);
    await stopped;

    // The target answered well until tandem stopped: no upstream error is counted for it.
    const errors = await tandem.server.metrics.upstreamErrors.get();
    assert.deepEqual(errors.values, []);
    assert.equal(upstream.cut(), 1);
  });
});
