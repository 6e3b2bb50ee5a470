/**
 * The worker thread that checkpoints the store's write-ahead log (see Checkpointer): its own
 * connection to the database moves committed pages from `tandem.db-wal` into `tandem.db` every
 * `intervalMs`, so that the fsyncs of a checkpoint never hold up a commit on the store's thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import type Sqlite from "better-sqlite3-multiple-ciphers";
import type { CheckpointReply, CheckpointRequest, CheckpointStart } from "./checkpointer.js";
import { openForCheckpoints } from "./open-database.js";

const port = parentPort;
if (!port) throw new Error("checkpoint-thread.ts runs as a worker thread");
const start = workerData as CheckpointStart;
const post = (reply: CheckpointReply) => port.postMessage(reply);

let db: Sqlite.Database | undefined;
try {
  db = openForCheckpoints(start.file, Buffer.from(start.key));
  post({ op: "ready" });
} catch (err) {
  post({ op: "failed", message: (err as Error).message });
  port.close();
}

/** Whether the last checkpoint failed: a failure is reported once, not at every interval. */
let failing = false;
const timer = db && setInterval(checkpoint, start.intervalMs);

function checkpoint(): void {
  try {
    // PASSIVE: copies what no reader still needs, without waiting for readers or blocking writers.
    // Once every frame is copied, the next commit starts the log over from its beginning.
    db?.pragma("wal_checkpoint(PASSIVE)");
    failing = false;
  } catch (err) {
    if (!failing) post({ op: "error", message: (err as Error).message });
    failing = true;
  }
}

port.on("message", (message: CheckpointRequest) => {
  if (message.op !== "stop") return;
  clearInterval(timer);
  db?.close();
  db = undefined;
  post({ op: "stopped" });
  port.close();
});
