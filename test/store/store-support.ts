import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoreEvent } from "../../src/store/index.js";

/** A fresh, empty data dir under the system temp dir. */
export function tempDataDir(prefix = "tandem-store-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function randomKey(): Buffer {
  return randomBytes(32);
}

/** The database's files as they are on disk right now: the main file, its WAL and its shared-memory index. */
export function databaseFiles(dataDir: string): string[] {
  return ["tandem.db", "tandem.db-wal", "tandem.db-shm"].map((f) => join(dataDir, f)).filter((f) => existsSync(f));
}

/** Which of the database's files hold `needle` as raw bytes (UTF-8 and UTF-16LE). */
export function filesContaining(dataDir: string, needle: string): string[] {
  const forms = [Buffer.from(needle, "utf8"), Buffer.from(needle, "utf16le")];
  return databaseFiles(dataDir).filter((file) => {
    const bytes = readFileSync(file);
    return forms.some((form) => bytes.includes(form));
  });
}

/** Collects what a store reports, for assertions, instead of printing it. */
export function eventLog(): { events: StoreEvent[]; report: (event: StoreEvent) => void } {
  const events: StoreEvent[] = [];
  return { events, report: (event) => events.push(event) };
}
