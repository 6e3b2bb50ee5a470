/**
 * A damaged store stops `tandem serve` before it listens (exit 2, the file named) and `tandem audit`
 * says what is wrong (exit 1); neither changes a byte of the file. Run through the real CLI.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openStore } from "../../src/store/index.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [TANDEM_CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  // A server that did start (the check let the file through) is stopped, so the test fails instead of hanging.
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    }),
  );
}

/** A store with rows in a fresh data dir, closed; returns the dir, the key and the file. */
function storeWithRows(): { home: string; dataDir: string; key: Buffer; file: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), "tandem-damaged-"));
  const dataDir = join(home, "data");
  mkdirSync(dataDir);
  const key = randomBytes(32);
  const store = openStore({ dataDir, key, logContent: true, pruneIntervalMs: 0, report: () => {} });
  for (let i = 0; i < 300; i++) {
    store.logRequest({ dialect: "openai", status: 200, content: { request: `request ${i} ${"x".repeat(200)}` } });
    store.recordEgress({ target: "cloud/m", sensitivity: "public", body: `body ${i}` });
  }
  store.close();
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    OLLAMA_HOST: "127.0.0.1:9",
    TANDEM_DATA_DIR: dataDir,
    TANDEM_DB_KEY: key.toString("hex"),
  };
  return { home, dataDir, key, file: join(dataDir, "tandem.db"), env };
}

const DAMAGES: { name: string; damage: (bytes: Buffer) => Buffer; message: RegExp }[] = [
  {
    name: "damaged pages in the middle",
    damage: (bytes) => {
      const copy = Buffer.from(bytes);
      // A page of the logs, written after every table was made (the pages before them hold the schema
      // and the tables' first pages, which opening the file reads anyway).
      const late = Math.floor((copy.length / 4096) * 0.8) * 4096;
      copy.write("not what was written here", late + 512, "latin1");
      return copy;
    },
    message: /tandem\.db is damaged \(the check at open found/,
  },
  { name: "a zero-length file", damage: () => Buffer.alloc(0), message: /tandem\.db is empty \(0 bytes\)/ },
  {
    name: "a truncated file",
    damage: (bytes) => Buffer.from(bytes.subarray(0, Math.floor(bytes.length / 4096 / 3) * 4096)),
    message: /tandem\.db is damaged/,
  },
];

describe("a damaged store at start", () => {
  for (const { name, damage, message } of DAMAGES) {
    it(`with ${name}: tandem serve exits 2 naming the file, tandem audit says so, and the file is unchanged`, async () => {
      const { env, file } = storeWithRows();
      const bytes = damage(readFileSync(file));
      writeFileSync(file, bytes);
      const serve = await run(["serve", "--port", "0"], env);
      assert.equal(serve.code, 2, serve.stderr);
      assert.match(serve.stderr, message);
      assert.ok(serve.stderr.includes(file), "the message names the file");
      assert.doesNotMatch(serve.stderr, /listening on/);
      assert.ok(readFileSync(file).equals(bytes), "the file is byte for byte as it was");

      const audit = await run(["audit"], env);
      assert.equal(audit.code, 1, audit.stderr);
      assert.match(audit.stderr, /^tandem audit: /);
      assert.match(audit.stderr, message);
      assert.ok(readFileSync(file).equals(bytes), "tandem audit did not change it either");
    });
  }
});
