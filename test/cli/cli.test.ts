import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

// Resolved here, since the CLI runs with other working directories.

/** A clean environment: no keys, no config dirs of the machine, and no Ollama to find. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    OLLAMA_HOST: "127.0.0.1:9",
    TANDEM_LOG_LEVEL: "warn",
  };
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string, input?: string, stdoutFd?: number) {
  const child = spawn(process.execPath, [TANDEM_CLI, ...args], {
    env,
    cwd,
    stdio: ["pipe", stdoutFd ?? "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  if (input !== undefined) child.stdin?.end(input);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

describe("tandem CLI", () => {
  it("starts with no config and no keys, says no model is available and how to add one, and stops on SIGTERM", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    const server = run(["serve", "--port", "0"], cleanEnv(home), home);
    children.push(server.child);
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(server.err()), "the banner");
    await waitFor(() => server.err().includes("write tandem.config.yaml"), "the whole banner");
    const banner = server.err();
    assert.match(banner, /No model is available yet/);
    assert.match(banner, /OPENAI_API_KEY/);
    const url = /listening on (http:\/\/[\d.:]+)/.exec(banner)?.[1] as string;
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const ready = await fetch(`${url}/ready`);
    assert.equal(ready.status, 503);
    // Each provider's reason: the engine has no model yet.
    assert.match(await ready.text(), /no provider is usable: local: no local model is installed \(run `tandem models pull`\)/);

    const status = run(["status", "--url", url], cleanEnv(home), home);
    assert.equal(await status.exited, 0, status.err());
    assert.match(
      status.out(),
      /providers:\n {2}local +llamacpp +unavailable: no local model is installed \(run `tandem models pull`\)/,
    );
    assert.match(status.out(), /engine: not started/);

    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  });

  it("chats through the server with a piped prompt, streaming the answer", async () => {
    const upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    upstream.script(() => ({ kind: "text", text: "Hello from the fake upstream." }));
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    writeFileSync(
      join(home, "tandem.config.yaml"),
      `providers:\n  up: { kind: openai, baseUrl: "${upstream.url}", models: [gpt-4o-mini] }\nroutes:\n  auto: { tiers: [up/gpt-4o-mini] }\n`,
    );
    const server = run(["serve", "--port", "0"], cleanEnv(home), home);
    children.push(server.child);
    await waitFor(() => /models: /.test(server.err()), "the banner");
    assert.match(server.err(), /auto: up\/gpt-4o-mini/);
    // From a checkout the command is `node dist/cli/main.js` (the README's way): `npx tandem` run
    // anywhere else would fetch an unrelated package of that name from the npm registry.
    await waitFor(() => server.err().includes("No local model yet"), "the local model hint");
    assert.match(server.err(), /node dist\/cli\/main\.js models pull/);
    assert.doesNotMatch(server.err(), /npx tandem/);
    const url = /listening on (http:\/\/[\d.:]+)/.exec(server.err())?.[1] as string;
    // Piped lines arrive at once: each is a turn of the same conversation.
    const chat = run(["chat", "--url", url], cleanEnv(home), home, "Hi there\nAnd then?\n");
    assert.equal(await chat.exited, 0, chat.err());
    assert.deepEqual(chat.out().trim().split("\n"), ["Hello from the fake upstream.", "Hello from the fake upstream."]);
    const posts = upstream.requests.filter((r) => r.method === "POST").map((r) => r.body as { messages: { content: unknown }[] });
    assert.equal(posts.length, 2);
    assert.match(JSON.stringify(posts[0]?.messages.at(-1)?.content), /Hi there/);
    assert.equal(posts[1]?.messages.length, 3, "the second turn carries the first");
    assert.match(JSON.stringify(posts[1]?.messages.at(-1)?.content), /And then\?/);
    server.child.kill("SIGTERM");
    await server.exited;
    await upstream.close();
  });

  it("does not print the credentials a provider's baseUrl carries in the banner", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    writeFileSync(
      join(home, "tandem.config.yaml"),
      `providers:\n  up: { kind: openai, baseUrl: "http://bob:Hunter2Secret@127.0.0.1:9/v1?api_key=sk-in-the-url-123", local: false, models: [m] }\n`,
    );
    const server = run(["serve", "--port", "0"], cleanEnv(home), home);
    children.push(server.child);
    await waitFor(() => /up \(openai /.test(server.err()), "the banner's providers");
    assert.doesNotMatch(server.err(), /Hunter2Secret|sk-in-the-url-123/);
    assert.match(server.err(), /up \(openai http:\/\/\[redacted\]@127\.0\.0\.1:9/);
    server.child.kill("SIGTERM");
    await server.exited;
  });

  it("records cloud egress in the encrypted store, which tandem audit then shows; refuses to start on a wrong key", async () => {
    const upstream = await startFakeOpenAI({ models: ["m"] });
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    const key = randomBytes(32).toString("hex");
    const env = { ...cleanEnv(home), TANDEM_DB_KEY: key };
    writeFileSync(
      join(home, "tandem.config.yaml"),
      `providers:\n  up: { kind: openai, baseUrl: "${upstream.url}", local: false, models: [m] }\n`,
    );
    const server = run(["serve", "--port", "0"], env, home);
    children.push(server.child);
    await waitFor(() => /models: /.test(server.err()), "the banner");
    const url = /listening on (http:\/\/[\d.:]+)/.exec(server.err())?.[1] as string;
    const answer = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "up/m", messages: [{ role: "user", content: "hello" }] }),
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("x-tandem-sensitivity"), "public");
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    await upstream.close();

    const audit = run(["audit", "--json"], env, home);
    assert.equal(await audit.exited, 0, audit.err());
    const rows = JSON.parse(audit.out()) as { target: string; sensitivity: string }[];
    assert.deepEqual(
      rows.map((r) => [r.target, r.sensitivity]),
      [["up/m", "public"]],
      "the row written while serving survived the shutdown",
    );

    const wrong = run(["serve", "--port", "0"], { ...env, TANDEM_DB_KEY: randomBytes(32).toString("hex") }, home);
    assert.equal(await wrong.exited, 2);
    assert.match(wrong.err(), /database key does not match .*store\.enabled: false/s);
  });

  it("exits 2 with the file, field and expectation on a config error", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    writeFileSync(join(home, "tandem.config.yaml"), "server: { port: 'high' }\n");
    const server = run(["serve"], cleanEnv(home), home);
    assert.equal(await server.exited, 2);
    assert.match(server.err(), /config error: .*tandem\.config\.yaml: server\.port: /);
  });

  it("refuses to listen beyond loopback without client keys", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    const server = run(["serve", "--host", "0.0.0.0", "--port", "0"], cleanEnv(home), home);
    assert.equal(await server.exited, 2);
    assert.match(server.err(), /server\.apiKeys/);
  });

  it("keeps serving when its log cannot be written (a full disk)", { skip: !existsSync("/dev/full") }, async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    // Every write to /dev/full fails with ENOSPC, as on a full disk.
    const server = run(
      ["serve", "--port", "0"],
      { ...cleanEnv(home), TANDEM_LOG_LEVEL: "info" },
      home,
      undefined,
      openSync("/dev/full", "w"),
    );
    children.push(server.child);
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(server.err()), "the banner");
    const url = /listening on (http:\/\/[\d.:]+)/.exec(server.err())?.[1] as string;
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.match(server.err(), /cannot write log lines \(ENOSPC\); dropping them/);
    assert.equal(server.child.exitCode, null, "the server is still running");
    server.child.kill("SIGTERM");
    await server.exited;
  });
});
