import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command, type CommanderError, InvalidArgumentError } from "commander";
import { ConfigError } from "../config/config-error.js";
import type { Keychain } from "../secrets/index.js";
import {
  DATABASE_FILE,
  type EgressAuditRow,
  openDataStore,
  parseSince,
  SINCE_EXPECTED,
  type SinceValue,
  StoreError,
  sinceTime,
} from "../store/index.js";
import { type CommandIo, EXIT_FAILED, EXIT_USAGE, processIo, warnTo } from "./command-io.js";
import { addDataDirOptions, type DataDirOptions, resolveDataDir, STORE_DATA_DIR_HELP } from "./data-dir-options.js";
import { formatTable } from "./text-table.js";

/** What `tandem audit` reads and writes: the process's own unless a test passes its own. */
export interface AuditCommandIo extends CommandIo {
  /** Default: the OS keychain, service "tandem" (for the database key). */
  keychain?: Keychain;
  /** Default: Date.now (tests pin it, for --since 1h). */
  now?: () => number;
}

interface AuditOptions extends DataDirOptions {
  since?: SinceValue;
  limit: number;
  target?: string;
  json?: boolean;
}

/** `30m`, `24h`, `7d`, `2w` back from now, or an ISO date/time. */
export function parseSinceOption(text: string): SinceValue {
  const since = parseSince(text);
  if (since === undefined) throw new InvalidArgumentError(`expected ${SINCE_EXPECTED}, got '${text}'`);
  return since;
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got '${text}'`);
  return n;
}

/** `tandem audit`: what left the machine, from the encrypted store's egress audit. */
export function auditCommand(io: AuditCommandIo = processIo()): Command {
  return addDataDirOptions(
    new Command("audit")
      .description(
        "show what left this machine for cloud targets: when, where, how many bytes, what was redacted (never content)",
      )
      .option("--since <when>", "only rows since then: 30m, 24h, 7d, or a date/time (ISO 8601)", parseSinceOption)
      .option("-n, --limit <n>", "at most this many rows, newest first", parseLimit, 50)
      .option("--target <target>", "only rows for this target (provider/model)")
      .option("--json", "print JSON"),
    STORE_DATA_DIR_HELP,
  )
    .exitOverride((err: CommanderError) => io.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .action(async (opts: AuditOptions) => {
      io.setExitCode(await audit(io, opts));
    });
}

async function audit(io: AuditCommandIo, opts: AuditOptions): Promise<number> {
  try {
    const dir = await resolveDataDir(io, opts);
    const file = join(dir, DATABASE_FILE);
    if (!existsSync(file)) {
      if (opts.json) io.stdout.write("[]\n");
      else io.stdout.write(`nothing has left this machine through tandem yet (no database at ${file})\n`);
      return 0;
    }
    const now = (io.now ?? Date.now)();
    const since = opts.since === undefined ? undefined : sinceTime(opts.since, now);
    const store = await openDataStore({ dataDir: dir, env: io.env, keychain: io.keychain, warn: warnTo(io), create: false });
    let rows: EgressAuditRow[];
    try {
      rows = store.queryAudit({ since, limit: opts.limit, target: opts.target });
    } finally {
      store.close();
    }
    if (opts.json) {
      io.stdout.write(
        `${JSON.stringify(
          rows.map((r) => ({ ...r, time: r.time.toISOString() })),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    if (rows.length === 0) {
      io.stdout.write(`no egress recorded${since === undefined ? "" : ` since ${new Date(since).toISOString()}`}\n`);
      return 0;
    }
    io.stdout.write(
      formatTable([
        ["TIME (UTC)", "TARGET", "ROUTE", "SENSITIVITY", "REDACTED", "BYTES", "SHA-256"],
        ...rows.map((r) => [
          r.time.toISOString().replace("T", " ").slice(0, 19),
          r.target,
          r.route ?? "-",
          r.sensitivity,
          formatRedactions(r.redactions),
          r.sent ? String(r.bytes) : `${r.bytes} (not sent)`,
          `${r.sha256.slice(0, 16)}…`,
        ]),
      ]),
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`tandem audit: config error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof StoreError) {
      io.stderr.write(`tandem audit: ${err.message}\n`);
      return EXIT_FAILED;
    }
    throw err;
  }
}

function formatRedactions(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind}:${n}`);
  return parts.length > 0 ? parts.join(" ") : "-";
}
