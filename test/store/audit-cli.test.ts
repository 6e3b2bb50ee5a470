import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type AuditCommandIo, auditCommand, parseSinceOption } from "../../src/cli/audit.js";
import { openStore } from "../../src/store/index.js";
import { tempDataDir } from "./store-support.js";

const NOW = Date.UTC(2026, 0, 31, 12, 0, 0);

async function audit(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  let code = 0;
  const io: AuditCommandIo = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env,
    now: () => NOW,
    setExitCode: (c) => {
      code = c;
    },
    exit: (c) => {
      throw new Error(`exit ${c}: ${err}`);
    },
  };
  await auditCommand(io).parseAsync(args, { from: "user" });
  return { code, out, err };
}

describe("tandem audit", () => {
  const dataDir = tempDataDir("tandem-audit-");
  const key = randomBytes(32);
  const env = { TANDEM_DB_KEY: key.toString("hex"), HOME: dataDir, XDG_CONFIG_HOME: join(dataDir, "config") };

  it("says there is nothing yet when there is no database, without making one", async () => {
    const empty = tempDataDir("tandem-audit-empty-");
    const { code, out } = await audit(["--data-dir", empty], env);
    assert.equal(code, 0);
    assert.equal(out, `nothing has left this machine through tandem yet (no database at ${join(empty, "tandem.db")})\n`);
    assert.deepEqual(await audit(["--data-dir", empty, "--json"], env).then((r) => r.out), "[]\n");
  });

  it("prints recent egress rows as a table, newest first, filtered by --since", async () => {
    const store = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
    store.recordEgress({ time: NOW - 3 * 3_600_000, target: "openai/gpt-4o-mini", sensitivity: "public", body: "first" });
    store.recordEgress({
      time: NOW - 30 * 60_000,
      target: "claude/claude-sonnet-4-5",
      route: "redacted",
      sensitivity: "private",
      redactions: { phone: 1, email: 2 },
      body: "second, with [EMAIL_1]",
    });
    store.close();

    const all = await audit(["--data-dir", dataDir], env);
    assert.equal(all.code, 0, all.err);
    assert.equal(
      all.out,
      [
        "TIME (UTC)           TARGET                    ROUTE     SENSITIVITY  REDACTED         BYTES  SHA-256",
        `2026-01-31 11:30:00  claude/claude-sonnet-4-5  redacted  private      email:2 phone:1  22     ${sha("second, with [EMAIL_1]").slice(0, 16)}…`,
        `2026-01-31 09:00:00  openai/gpt-4o-mini        -         public       -                5      ${sha("first").slice(0, 16)}…`,
        "",
      ].join("\n"),
    );
    const recent = await audit(["--data-dir", dataDir, "--since", "1h"], env);
    assert.equal(recent.out.trim().split("\n").length, 2);
    const none = await audit(["--data-dir", dataDir, "--since", "2026-01-31T11:45:00Z"], env);
    assert.equal(none.out, "no egress recorded since 2026-01-31T11:45:00.000Z\n");
  });

  it("prints JSON with --json, and honours --limit and --target", async () => {
    const { code, out } = await audit(["--data-dir", dataDir, "--json", "--limit", "1"], env);
    assert.equal(code, 0);
    const rows = JSON.parse(out) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0] ?? {}).sort(), [
      "bytes",
      "id",
      "redactions",
      "route",
      "sensitivity",
      "sent",
      "sha256",
      "target",
      "time",
    ]);
    assert.equal(rows[0]?.time, "2026-01-31T11:30:00.000Z");
    const byTarget = JSON.parse((await audit(["--data-dir", dataDir, "--json", "--target", "openai/gpt-4o-mini"], env)).out) as {
      bytes: number;
    }[];
    assert.deepEqual(
      byTarget.map((r) => r.bytes),
      [5],
    );
  });

  it("explains a wrong database key instead of failing obscurely", async () => {
    const { code, err } = await audit(["--data-dir", dataDir], { ...env, TANDEM_DB_KEY: randomBytes(32).toString("hex") });
    assert.equal(code, 1);
    assert.match(err, /^tandem audit: the database key does not match .*tandem\.db \(the key came from TANDEM_DB_KEY\)/);
  });

  it("reads --since as a duration or a date, and rejects anything else", () => {
    assert.deepEqual(parseSinceOption("90m"), { ago: 90 * 60_000 });
    assert.deepEqual(parseSinceOption("2d"), { ago: 2 * 86_400_000 });
    assert.deepEqual(parseSinceOption("2026-01-01"), { at: Date.UTC(2026, 0, 1) });
    assert.throws(() => parseSinceOption("yesterday"), /expected a duration like 30m, 24h, 7d or a date/);
  });
});

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
