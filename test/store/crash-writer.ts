/**
 * Child process for the crash test: opens the store, then commits small batches of request rows in a
 * loop, printing `committed <id>` for each row only after its batch's commit returned. The parent kills
 * it with SIGKILL at some point and checks that every printed id is in the database.
 * Usage: node --import tsx crash-writer.ts <dataDir>   (key in TANDEM_DB_KEY)
 */
import { writeSync } from "node:fs";
import { openStore, parseDatabaseKey } from "../../src/store/index.js";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: crash-writer.ts <dataDir>");
const store = openStore({
  dataDir,
  key: parseDatabaseKey(process.env.TANDEM_DB_KEY ?? "", "TANDEM_DB_KEY"),
  logContent: true,
  pruneIntervalMs: 0,
  // A large interval: the loop below commits explicitly, so it knows exactly what is committed.
  flushIntervalMs: 60_000,
});
writeSync(1, "ready\n");
let next = 0;
function batch(): void {
  const ids: number[] = [];
  const size = 1 + (next % 7);
  for (let i = 0; i < size; i++) {
    const id = next++;
    ids.push(id);
    store.logRequest({ dialect: "openai", status: 200, route: `crash-${id}`, content: { request: "x".repeat(id % 500) } });
  }
  const result = store.flush();
  if (!result.ok) throw result.error;
  // Synchronous write, so what the parent reads was printed after the commit and before the next batch.
  writeSync(1, ids.map((id) => `committed ${id}\n`).join(""));
  setImmediate(batch);
}
batch();
