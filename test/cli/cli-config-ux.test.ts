import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { gpuCommand } from "../../src/cli/gpu.js";
import { keysCommand } from "../../src/cli/keys.js";
import { modelsCommand } from "../../src/cli/models.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

/*
 * What the CLI tells an operator about their own mistakes: a config the server would refuse one
 * day, a variable with a bad value, a server that is not running, and the same help everywhere.
 */

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

/** Runs `tandem ...` to its end (these commands all end at once, refusing), as another user when `uid` is given. */
function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  uid?: number,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [TANDEM_CLI, ...args], {
    env,
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
    ...(uid !== undefined && { uid, gid: uid }),
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  // A serve that did start would not end: stop it, so the test fails rather than hangs.
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const io = {
  stdout: { write: () => true },
  stderr: { write: () => true },
  stdin: process.stdin,
  env: {},
  setExitCode: () => {},
  exit: () => {
    throw new Error("not run");
  },
};

/** The help line of an option of a subcommand. */
function optionHelp(group: Command, subcommand: string, flag: string): string | undefined {
  const command = group.commands.find((c) => c.name() === subcommand);
  return command?.options.find((o) => o.long === flag)?.description;
}

describe("tandem CLI: config mistakes and help", () => {
  it("serve --port still refuses the file's bad server.port, as every other command does", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    writeFileSync(join(home, "tandem.config.yaml"), "server: { port: abc }\n");
    const served = await run(["serve", "--port", "0"], cleanEnv(home), home);
    assert.equal(served.code, 2);
    assert.match(served.stderr, /config error: .*tandem\.config\.yaml: server\.port: .*expected number/);
  });

  it("names the variable, not the file, for a bad TANDEM_LOG_LEVEL or TANDEM_HOST", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    const level = await run(["serve", "--port", "0"], { ...cleanEnv(home), TANDEM_LOG_LEVEL: "verbose" }, home);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /config error: TANDEM_LOG_LEVEL: .*expected one of/);
    const host = await run(["serve", "--port", "0"], { ...cleanEnv(home), TANDEM_HOST: "not a host!" }, home);
    assert.equal(host.code, 2);
    assert.match(host.stderr, /config error: TANDEM_HOST: expected an IP address .*got 'not a host!'/);
    assert.doesNotMatch(host.stderr, /apiKeys/);
  });

  it("refuses a bad --port, a host it cannot listen on and a config file it cannot read in one line with exit 2", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    // Unreadable by its reader: root reads anything, so as root the reader is nobody.
    const asRoot = process.getuid?.() === 0;
    chmodSync(home, 0o755);
    writeFileSync(join(home, "unreadable.yaml"), "{}\n", { mode: 0o000 });
    const [port, host, unreadable] = await Promise.all([
      run(["serve", "--port", "abc"], cleanEnv(home), home),
      // An address no interface of this machine has (TEST-NET-1); a non-loopback bind needs a client key.
      run(
        ["serve", "--host", "192.0.2.1", "--port", "0"],
        { ...cleanEnv(home), TANDEM_API_KEYS: "k", TANDEM_DB_KEY: "ab".repeat(32) },
        home,
      ),
      run(["serve", "--config", "unreadable.yaml", "--port", "0"], cleanEnv(home), home, asRoot ? 65534 : undefined),
    ]);
    // Commander's own refusal exited 1, unlike TANDEM_PORT's (2).
    assert.equal(port.code, 2, port.stderr);
    assert.equal(port.stderr, "tandem: config error: --port: expected a port number 0-65535, got 'abc'\n");
    // These two printed a Node stack and exited 1.
    assert.equal(host.code, 2, host.stderr);
    assert.match(
      host.stderr,
      /^tandem: config error: --host: cannot listen on 192\.0\.2\.1: no network interface of this machine has that address/,
    );
    assert.equal(unreadable.code, 2, unreadable.stderr);
    assert.match(unreadable.stderr, /^tandem: config error: .*unreadable\.yaml: cannot read: EACCES/);
    for (const refused of [host, unreadable]) assert.doesNotMatch(refused.stderr, /\n\s+at /);
  });

  it("says which setting chose a non-loopback bind when it refuses it without client keys", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    const refused = await run(["serve", "--port", "0"], { ...cleanEnv(home), TANDEM_HOST: "0.0.0.0" }, home);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /server\.apiKeys: binding to 0\.0\.0\.0 \(TANDEM_HOST\) exposes tandem/);
  });

  it("status says tandem is not answering, and how to start it, when nothing listens", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-cli-"));
    const url = `http://127.0.0.1:${await closedPort()}`;
    const away = await run(["status", "--url", url], cleanEnv(home), home);
    assert.equal(away.code, 1);
    assert.match(away.stderr, /cannot reach tandem at .*: nothing answers there \(ECONNREFUSED\); start it with 'tandem serve'/);
    // A port fetch will not connect to at all (9, as the tester's TANDEM_PORT was) says so, not "fetch failed".
    const blocked = await run(["status", "--url", "http://127.0.0.1:9"], cleanEnv(home), home);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /fetch refuses to connect to that port/);
    assert.doesNotMatch(blocked.stderr, /: fetch failed$/m);
  });

  it("gives gpu detect and gpu install the same --data-dir and --config defaults as every other command", () => {
    const gpu = gpuCommand(io);
    const models = modelsCommand(io);
    const keys = keysCommand(io);
    const configHelp = optionHelp(models, "list", "--config");
    assert.ok(configHelp?.includes("the user config dir"));
    for (const sub of ["detect", "install"]) {
      assert.equal(optionHelp(gpu, sub, "--config"), configHelp, `gpu ${sub} --config`);
      assert.equal(optionHelp(keys, "list", "--config"), configHelp);
      assert.match(
        optionHelp(gpu, sub, "--data-dir") ?? "",
        /\(default: TANDEM_DATA_DIR, the config's dataDir, ~\/\.local\/share\/tandem\)$/,
      );
    }
  });
});
