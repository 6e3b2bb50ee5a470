/**
 * One server per data dir: a second `tandem serve` on a data dir a running one holds exits 2 naming
 * the first (its pid and port) before it touches anything, `tandem audit` still works beside the
 * running one, and a server killed with kill -9 leaves no lock behind.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DataDirInUseError, DataDirLock, StoreError } from "../../src/store/index.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";
import { fillUp, onTinyFilesystem } from "./store-support.js";

function cli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [TANDEM_CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a command to its end. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = cli(args, env);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdout?.resume();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

/** Starts `tandem serve --port 0` and answers once it listens, with its port. */
async function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = cli(["serve", "--port", "0"], env);
  child.stdout?.resume();
  let stderr = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 30 s: ${stderr}`)), 30_000);
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (listening) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      }
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, port };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

describe("the data dir lock", () => {
  it("is held once: a second hold is refused until the first lets go", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tandem-lock-"));
    const first = DataDirLock.acquire(dataDir);
    first.describe({ pid: 4242, port: 18950, host: "127.0.0.1" });
    assert.throws(
      () => DataDirLock.acquire(dataDir),
      (err: unknown) =>
        err instanceof DataDirInUseError &&
        err.message.includes(`the data dir ${dataDir} is in use by another tandem (pid 4242, listening on 127.0.0.1:18950)`),
    );
    first.release();
    DataDirLock.acquire(dataDir).release();
  });

  it("names a data folder it cannot create, and why, as a StoreError (exit 2) rather than a stack", (t) => {
    // A file where a folder should be: refused for root too, unlike a parent without permissions.
    const home = mkdtempSync(join(tmpdir(), "tandem-lock-"));
    writeFileSync(join(home, "a-file"), "");
    const dataDir = join(home, "a-file", "data");
    assert.throws(
      () => DataDirLock.acquire(dataDir),
      (err: unknown) =>
        err instanceof StoreError &&
        err.message.startsWith(`the data folder ${dataDir} cannot be created (`) &&
        /ENOTDIR/.test(err.message),
    );
    return onTinyFilesystem(t, (dir) => {
      // A new data dir on a read-only file system: mkdir said only ENOENT.
      execFileSync("mount", ["-o", "remount,ro", dir], { stdio: "pipe" });
      assert.throws(
        () => DataDirLock.acquire(join(dir, "data")),
        (err: unknown) =>
          err instanceof StoreError &&
          err.message.startsWith(`the data folder ${join(dir, "data")} cannot be created (${dir} is on a read-only file system)`),
      );
    });
  });

  it("says a full disk is full when it cannot take the lock of a new data dir", (t) =>
    onTinyFilesystem(t, (dir) => {
      fillUp(dir);
      assert.throws(
        () => DataDirLock.acquire(join(dir, "data")),
        (err: unknown) => err instanceof StoreError && err.code === "disk_full" && /the disk is full/.test(err.message),
      );
    }));

  it("refuses a second tandem serve on the same data dir (another port), lets tandem audit run, and outlives no kill -9", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-lock-"));
    const dataDir = join(home, "data");
    mkdirSync(dataDir);
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, "config"),
      OLLAMA_HOST: "127.0.0.1:9",
      TANDEM_DATA_DIR: dataDir,
      TANDEM_DB_KEY: randomBytes(32).toString("hex"),
    };
    const first = await startServer(env);
    try {
      const second = await run(["serve", "--port", "0"], env);
      assert.equal(second.code, 2, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(
          `^tandem: the data dir ${dataDir} is in use by another tandem \\(pid ${first.child.pid}, listening on 127\\.0\\.0\\.1:${first.port}\\)`,
        ),
      );
      assert.doesNotMatch(second.stderr, /listening on http/);
      const audit = await run(["audit"], env);
      assert.equal(audit.code, 0, audit.stderr);
    } finally {
      await killed(first.child);
    }
    // The OS let the lock go with the process: the next start is not blocked by a stale one.
    const again = await startServer(env);
    await killed(again.child);
  });
});
