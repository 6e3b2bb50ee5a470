/**
 * The README's first run for an Anthropic user: no config file, ANTHROPIC_API_KEY set, and an
 * Anthropic API whose model list names dated ids only (`claude-haiku-4-5-20251001`, as the real one
 * lists them). The route `auto` tandem makes targets `claude/claude-haiku-4-5`, an alias the API
 * takes: it answers. And the banner says what `auto` will skip: a model its provider does not list,
 * and a provider whose model list could not be read.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

const children: ChildProcess[] = [];
const fakes: FakeAnthropic[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(fakes.map((f) => f.close()));
});

/** `tandem serve` with no config file, the given keys in its environment; resolves with its URL and banner. */
async function firstRun(env: Record<string, string>): Promise<{ url: string; banner: string }> {
  const home = mkdtempSync(join(tmpdir(), "tandem-first-run-"));
  const child = spawn(process.execPath, [TANDEM_CLI, "serve", "--port", "0"], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_DATA_HOME: join(home, "data"),
      OLLAMA_HOST: "127.0.0.1:9",
      TANDEM_LOG_LEVEL: "warn",
      ...env,
    },
    cwd: home,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const until = Date.now() + 60_000;
  // The banner is written whole, ending with the models line (and the pull advice after it).
  while (!/\n {2}models: .*\n/.test(stderr)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`tandem serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: /listening on (http:\/\/[\d.:]+)/.exec(stderr)?.[1] as string, banner: stderr };
}

describe("first run with ANTHROPIC_API_KEY and an API that lists dated ids", () => {
  it("answers `auto` through claude/claude-haiku-4-5, the alias sent as named", async () => {
    const claude = await startFakeAnthropic({ models: ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"] });
    fakes.push(claude);
    const { url, banner } = await firstRun({
      ANTHROPIC_API_KEY: "sk-ant-test-key",
      ANTHROPIC_BASE_URL: claude.url,
      // An OpenAI whose model list cannot be read (nothing listens on port 9).
      OPENAI_API_KEY: "sk-test-key",
      OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
    });
    assert.match(banner, /\n {4}auto: openai\/gpt-4o-mini -> claude\/claude-haiku-4-5\n/);
    assert.doesNotMatch(banner, /skipped: claude\//, banner);
    assert.match(banner, /claude \(anthropic http:\/\/127\.0\.0\.1:\d+\): 2 models\n/);
    // Not "0 models": its list was not read, and names go to it as given.
    assert.match(
      banner,
      /openai \(openai http:\/\/127\.0\.0\.1:9\/v1\): model list not read \(.+\); model names go to it as given\n/,
    );
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-tandem-target"), "claude/claude-haiku-4-5");
    const sent = claude.requests.filter((r) => r.path.startsWith("/v1/messages")).map((r) => (r.body as { model: string }).model);
    assert.deepEqual(sent, ["claude-haiku-4-5"]);
  });

  it("says in the banner when the provider offers none of the models `auto` would use", async () => {
    const claude = await startFakeAnthropic({ models: ["claude-sonnet-4-5-20250929"] });
    fakes.push(claude);
    const { banner } = await firstRun({ ANTHROPIC_API_KEY: "sk-ant-test-key", ANTHROPIC_BASE_URL: claude.url });
    assert.match(banner, /\n {4}auto: claude\/claude-haiku-4-5\n/);
    assert.match(
      banner,
      /\n {6}skipped: claude\/claude-haiku-4-5: claude does not list this model \(it lists claude-sonnet-4-5-20250929\)\n/,
    );
  });
});
