/**
 * `tandem run` with a name that is neither a model the server knows nor one a pull takes (a typo of
 * a route or a target): it is not found, as `tandem show` says it, listing what there is, and never
 * sent to a pull (whose answer would be advice about local engines).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

let upstream: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  // No local engine: a pull would be refused for want of one.
  tandem = await startTandem({
    providers: { openai: { kind: "openai", baseUrl: `${upstream.url}`, models: ["gpt-4o-mini"] } },
    routes: { auto: { tiers: ["openai/gpt-4o-mini"] } },
  });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [TANDEM_CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: tandem.dataDir, TANDEM_URL: tandem.url },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  child.stdin.end("");
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
}

describe("tandem run <a name that is nothing>", () => {
  it("says the model is not found, listing what exists as show does, not a pull's advice", async () => {
    const shown = await cli(["show", "nope"]);
    assert.equal(shown.code, 1);
    const run = await cli(["run", "nope", "Hi"]);
    assert.equal(run.code, 1);
    // No pull was asked for: a pull here would be refused for want of a local engine.
    assert.doesNotMatch(run.err, /local engine/);
    // show's own words first, then how a local model would be named for a pull.
    const said = shown.err.replace(/^tandem show: /, "").trim();
    assert.ok(run.err.startsWith(`tandem run: ${said.replace(/ \(404\)$/, "")}`), `${run.err} / ${said}`);
    assert.match(run.err, /auto/);
    assert.match(run.err, /openai\/gpt-4o-mini/);
    assert.match(run.err, /To pull a local model, name an alias \(qwen2\.5-0\.5b/);
    // One full stop between the server's sentence and the advice.
    assert.match(run.err, /gpt-4o-mini\. To pull/);
  });

  it("still answers a name the server knows", async () => {
    const run = await cli(["run", "auto", "Hi"]);
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out.trim(), "Hello from openai");
  });
});
