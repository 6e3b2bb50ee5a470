/**
 * The steps a profiler times (core/request-steps.ts, on the diagnostics channel `tandem:request:step`,
 * read by bench/phases.ts): one request to a cloud target with the store on passes each, once, in
 * the order the type names them.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import dc from "node:diagnostics_channel";
import { after, before, describe, it } from "node:test";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { startTandem } from "../support/tandem.js";

describe("request steps", () => {
  let cloud: FakeUpstream;

  before(async () => {
    cloud = await startFakeOpenAI({ models: ["m"] });
  });

  after(async () => {
    await cloud?.close();
  });

  it("publishes a whole chat completion's steps in order, from the body to the rendered answer", async () => {
    const tandem = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: cloud.url, local: false, models: ["m"] } } },
      { store: { key: randomBytes(32) } },
    );
    const steps: unknown[] = [];
    const listen = (step: unknown) => steps.push(step);
    dc.subscribe("tandem:request:step", listen);
    try {
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "cloud/m", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 200);
      await res.json();
    } finally {
      dc.unsubscribe("tandem:request:step", listen);
      await tandem.close();
    }
    assert.deepEqual(steps, ["body-read", "parsed", "routed", "attempt", "audit", "audited", "collected", "rendered"]);
  });
});
