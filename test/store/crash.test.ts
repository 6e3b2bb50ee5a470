import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openEncryptedDatabase, openStore } from "../../src/store/index.js";
import { tempDataDir } from "./store-support.js";

const WRITER = fileURLToPath(new URL("./crash-writer.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

describe("store durability", () => {
  it("keeps every row a writer reported committed when the writer is killed with SIGKILL mid-loop", async () => {
    const dataDir = tempDataDir();
    const key = randomBytes(32);
    const child = spawn(process.execPath, ["--import", TSX, WRITER, dataDir], {
      env: { PATH: process.env.PATH, TANDEM_DB_KEY: key.toString("hex") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    // Let it commit a few hundred batches, then kill it wherever it is: mid-transaction, mid-fsync, mid-print.
    const until = Date.now() + 15_000;
    while ((stdout.match(/committed/g)?.length ?? 0) < 1500) {
      if (Date.now() > until || child.exitCode !== null) assert.fail(`writer did not get going: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");

    const reported = [...stdout.matchAll(/^committed (\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(reported.length >= 1500);
    const store = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
    const found = new Set(store.queryRequests({ limit: 1_000_000 }).map((r) => r.route));
    store.close();
    const missing = reported.filter((id) => !found.has(`crash-${id}`));
    assert.deepEqual(missing, [], "every reported row is there");
    const db = openEncryptedDatabase(join(dataDir, "tandem.db"), key);
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    db.close();
  });
});
