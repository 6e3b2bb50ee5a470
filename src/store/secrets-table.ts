import type Sqlite from "better-sqlite3-multiple-ciphers";
import type { SecretInfo } from "./records.js";

/* The secrets table (keys referred to as `store:NAME`): values are read afresh each time, never listed. */

export function readSecret(db: Sqlite.Database, name: string): string | undefined {
  return db.prepare<[string], { value: string }>("SELECT value FROM secrets WHERE name = ?").get(name)?.value;
}

/** Stores or replaces a secret. */
export function writeSecret(db: Sqlite.Database, name: string, value: string): void {
  const now = Date.now();
  db.prepare(
    `INSERT INTO secrets (name, value, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ).run(name, value, now, now);
}

/** Removes a secret; false when there was none. */
export function removeSecret(db: Sqlite.Database, name: string): boolean {
  return db.prepare("DELETE FROM secrets WHERE name = ?").run(name).changes > 0;
}

/** The secrets' names and dates, by name; never their values. */
export function secretNames(db: Sqlite.Database): SecretInfo[] {
  return db
    .prepare<[], { name: string; created_at: number; updated_at: number }>(
      "SELECT name, created_at, updated_at FROM secrets ORDER BY name",
    )
    .all()
    .map((r) => ({ name: r.name, createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) }));
}
