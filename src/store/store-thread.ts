/**
 * The worker thread that owns the encrypted database for a running server (see BackgroundStore):
 * SQLCipher's encryption and the fsync of every commit happen here, never on the thread that
 * serves requests. It opens the store with the key it is given, then does what it is asked.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { FileContent } from "../core/files.js";
import { Checkpointer } from "./checkpointer.js";
import { openStore, type Store } from "./store.js";
import { StoreError } from "./store-error.js";
import { movableBuffer, type StoreThreadReply, type StoreThreadRequest, type StoreThreadStart } from "./store-protocol.js";

const port = parentPort;
if (!port) throw new Error("store-thread.ts runs as a worker thread");
const start = workerData as StoreThreadStart;
/** How often the checkpoint thread copies the log into the database file by default (see Checkpointer). */
const CHECKPOINT_INTERVAL_MS = 1000;

function errorOf(err: unknown): { code: string; message: string; file?: string } {
  if (err instanceof StoreError) return { code: err.code, message: err.message, ...(err.file && { file: err.file }) };
  return { code: "io", message: (err as Error)?.message ?? String(err) };
}

let store: Store;
try {
  store = openStore({ ...start.options, key: { ...start.key, key: Buffer.from(start.key.key) } });
  port.postMessage({ op: "ready" } satisfies StoreThreadReply);
} catch (err) {
  port.postMessage({ op: "failed", error: errorOf(err) } satisfies StoreThreadReply);
  process.exit(0);
}
// Until its connection is open (and if it ever stops), this thread's connection checkpoints by itself.
const checkpoints = new Checkpointer({
  file: store.file,
  key: start.key.key,
  intervalMs: start.options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
  onReady: () => store.checkpointElsewhere(true),
  onGone: (reason) => {
    store.checkpointElsewhere(false);
    store.report({ type: "checkpointer_gone", reason });
  },
  onError: (reason) => store.report({ type: "checkpoint_failed", reason }),
});

/** The checkpoint thread's connection closes first: the last one to close checkpoints and removes the log. */
async function close(id: number): Promise<void> {
  await checkpoints.stop();
  store.checkpointElsewhere(false);
  let reply: StoreThreadReply;
  try {
    reply = { op: "reply", id, value: store.close() };
  } catch (err) {
    reply = { op: "reply", id, error: errorOf(err) };
  }
  port?.postMessage(reply);
  port?.close();
}

port.on("message", (message: StoreThreadRequest) => {
  if (message.op === "rows") {
    for (const row of message.rows) {
      if (row.kind === "request") store.logRequest(row.entry);
      else if (row.kind === "egress") store.recordEgress(row.record);
      else if (row.kind === "journaled") store.recordJournaledEgress(row.values, row.token);
      else if (row.kind === "not_sent") store.markEgressNotSent(row.id);
      else if (row.kind === "not_sent_token") store.markJournaledEgressNotSent(row.token);
      else store.addUsage(row.entry);
    }
    if (message.journals || message.through) store.journalsHandedOver(message.journals ?? [], message.through);
    return;
  }
  if (message.op === "close") {
    void close(message.id);
    return;
  }
  let value: unknown;
  try {
    switch (message.op) {
      case "flush":
        value = store.flush();
        break;
      case "audit":
        value = store.commitEgress(message.records);
        break;
      case "queryAudit":
        value = store.queryAudit(message.query);
        break;
      case "queryRequests":
        value = store.queryRequests(message.query);
        break;
      case "queryUsage":
        value = store.queryUsage(message.query);
        break;
      case "health":
        value = store.health();
        break;
      case "getSecret":
        value = store.getSecret(message.name);
        break;
      case "state":
        value = store.stateCall(message.method, message.args as never);
        break;
      case "memory":
        value = store.memoryCall(message.method, message.args as never);
        break;
      case "files":
        value = store.fileCall(message.method, message.args as never);
        break;
      case "chatCompletions":
        value = store.chatCompletionCall(message.method, message.args as never);
        break;
      case "vectorStores":
        value = store.vectorStoreCall(message.method, message.args as never);
        break;
      case "batches":
        value = store.batchCall(message.method, message.args as never);
        break;
    }
  } catch (err) {
    port.postMessage({ op: "reply", id: message.id, error: errorOf(err) } satisfies StoreThreadReply);
    return;
  }
  // A file's bytes go back moved, not copied, when they fill their own buffer.
  const moved =
    message.op === "files" && message.method === "fileContent"
      ? movableBuffer((value as FileContent | undefined)?.data)
      : undefined;
  port.postMessage({ op: "reply", id: message.id, value } satisfies StoreThreadReply, moved && [moved]);
});
