/**
 * Many requests at once share the server's shutdown signals (each request's clientSignal listens to
 * them until its response closes): that is no leak, and must print no "Possible EventTarget memory
 * leak detected" warning, which an operator would read as one.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startSlowUpstream } from "../support/slow-openai-upstream.js";
import { PATIENT_TIMEOUTS, startTandem } from "../support/tandem.js";

describe("concurrent requests and the shared shutdown signals", () => {
  it("answers 50 requests at once without a MaxListenersExceededWarning", async () => {
    const upstream = await startSlowUpstream();
    after(() => upstream.close());
    const tandem = await startTandem({
      providers: { oa: { kind: "openai", baseUrl: upstream.url, models: ["slow"] } },
      routes: { slowr: { tiers: ["oa/slow"], retry: { attempts: 1 }, timeouts: PATIENT_TIMEOUTS } },
    } as never);
    after(() => tandem.close());
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    after(() => process.off("warning", onWarning));
    // Each answer takes 300 ms, so all 50 are running together.
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${tandem.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "slowr", stream: true, messages: [{ role: "user", content: "ms:300" }] }),
        }).then(async (res) => ({ status: res.status, text: await res.text() })),
      ),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.match(answer.text, /data: \[DONE\]/);
    }
    // A warning is emitted on the next tick after the listener that exceeds the limit.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
      [],
    );
  });
});
