import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { measureLoopGaps } from "../support/loop-gaps.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** A chat body whose `metadata` holds `members` tiny members (`"k0":1,"k1":1,...`). */
function manyMembers(members: number): string {
  const keys = Array.from({ length: members }, (_, i) => `"k${i}":1`).join(",");
  return `{"model":"oa/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata":{${keys}}}`;
}

describe("server.bodyMaxMembers", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;
  let small: RunningTandem;
  before(async () => {
    upstream = await startFakeOpenAI();
    const providers = { oa: { kind: "openai" as const, baseUrl: upstream.url, apiKeys: ["env:OA_KEY"], local: false } };
    tandem = await startTandem({ providers }, { env: { OA_KEY: "sk-test" } });
    small = await startTandem({ providers, server: { bodyMaxMembers: 10 } }, { env: { OA_KEY: "sk-test" } });
  });
  after(async () => {
    await tandem?.close();
    await small?.close();
    await upstream?.close();
  });

  it("refuses a body of a million tiny members with a 413 naming the setting, before the upstream and without a long stall", {
    timeout: 120_000,
  }, async () => {
    const body = manyMembers(1_000_000);
    const seen = upstream.requests.length;
    const gaps = measureLoopGaps();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const answer = (await res.json()) as { error: { message: string } };
    const longest = await gaps.stop();
    assert.equal(res.status, 413);
    assert.match(answer.error.message, /server\.bodyMaxMembers/);
    assert.equal(upstream.requests.length, seen, "the upstream was sent nothing");
    // Generous for a loaded machine: handled, this body held the loop for seconds.
    assert.ok(longest < 2000, `the event loop was held ${Math.round(longest)} ms at once`);
  });

  it("counts array elements and empty objects: a million {} in messages is a 413 before validation, without a long stall", {
    timeout: 60_000,
  }, async () => {
    const body = `{"model":"oa/gpt-4o-mini","messages":[${"{},".repeat(999_999)}{}]}`;
    const seen = upstream.requests.length;
    const gaps = measureLoopGaps();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const answer = (await res.json()) as { error: { message: string } };
    const longest = await gaps.stop();
    assert.equal(res.status, 413, answer.error.message);
    assert.match(answer.error.message, /array elements \(server\.bodyMaxMembers\)/);
    assert.equal(upstream.requests.length, seen, "the upstream was sent nothing");
    // Validated one by one, these elements held the loop for many seconds.
    assert.ok(longest < 1000, `the event loop was held ${Math.round(longest)} ms at once`);
  });

  it("counts a small body's array elements: eleven numbers in stop pass a limit of 10", async () => {
    const refused = await fetch(`${small.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "oa/gpt-4o-mini", messages: [], stop: Array.from({ length: 11 }, () => 0) }),
    });
    assert.equal(refused.status, 413);
    await refused.text();
  });

  it("counts a small body's members too, keys inside strings not counted", async () => {
    const refused = await fetch(`${small.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: manyMembers(11),
    });
    assert.equal(refused.status, 413);
    await refused.text();
    const text = '"a":1,'.repeat(50);
    const taken = await fetch(`${small.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "oa/gpt-4o-mini", messages: [{ role: "user", content: text }] }),
    });
    assert.equal(taken.status, 200, await taken.text());
  });
});
