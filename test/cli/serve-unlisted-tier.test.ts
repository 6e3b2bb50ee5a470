/**
 * A route's tier that names a model its provider's config does not list starts the server, as the
 * README's `models` row promises: the route skips it on every request, and the banner says so. A
 * tier that drops the `:latest` its provider lists (`oll/llama3.2` for `llama3.2:latest`) is the
 * listed model, as a request naming it is, and is not skipped.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type ServeProcess, spawnServe } from "../support/tandem-serve.js";

let upstream: FakeOpenAIUpstream;
let served: ServeProcess | undefined;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  const home = mkdtempSync(join(tmpdir(), "tandem-unlisted-tier-"));
  const config = join(home, "tandem.config.yaml");
  writeFileSync(
    config,
    [
      `dataDir: "${join(home, "data")}"`,
      "health: { probeIntervalMs: 0 }",
      "providers:",
      `  oai: { kind: openai, baseUrl: "${upstream.url}", local: false, models: [gpt-4o-mini] }`,
      "  oll: { kind: ollama, baseUrl: http://127.0.0.1:9, models: [llama3.2:latest] }",
      "routes:",
      "  r2: { tiers: [oll/llama3.2, oai/gpt-5, oai/gpt-4o-mini] }",
      "",
    ].join("\n"),
  );
  served = await spawnServe(home, config, randomBytes(32).toString("hex"));
});

after(async () => {
  served?.child.kill("SIGKILL");
  await upstream?.close();
});

describe("a route tier naming a model its provider does not list", () => {
  it("starts the server, and the banner names the tier it skips", async () => {
    const until = Date.now() + 30_000;
    while (!/\n {2}models: .*\n/.test(served?.stderr() ?? "")) {
      assert.ok(Date.now() < until, served?.stderr());
      await new Promise((r) => setTimeout(r, 25));
    }
    const banner = served?.stderr() ?? "";
    assert.match(banner, /\n {4}r2: oll\/llama3\.2 -> oai\/gpt-5 -> oai\/gpt-4o-mini\n/, banner);
    assert.match(banner, /\n {6}skipped: oai\/gpt-5: oai does not list this model \(it lists gpt-4o-mini\)\n/, banner);
    assert.doesNotMatch(banner, /skipped: oll\//, banner);
  });

  it("answers the route from a listed tier", async () => {
    const res = await fetch(`${served?.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "r2", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-tandem-target"), "oai/gpt-4o-mini");
  });
});
