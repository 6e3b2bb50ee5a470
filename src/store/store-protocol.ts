import type { DatabaseKey } from "./database-key.js";
import type { EgressValues } from "./log-tables.js";
import type { AuditQuery, EgressRecord, RequestLogEntry, UsageEntry } from "./records.js";
import type {
  BatchMethod,
  ChatCompletionMethod,
  FileMethod,
  MemoryMethod,
  StateMethod,
  StoreOptions,
  VectorStoreMethod,
} from "./store.js";

/** The messages between a BackgroundStore and its worker thread (store-thread.ts). */

/** What the thread is started with (workerData). `report` stays on the thread: it writes to stderr. */
export interface StoreThreadStart {
  options: Omit<StoreOptions, "key" | "report">;
  key: DatabaseKey;
}

/** Rows to queue, in the order they were logged; egress rows are already hashed (no bodies cross over). */
export type QueuedRow =
  | { kind: "request"; entry: RequestLogEntry }
  | { kind: "egress"; record: Extract<EgressRecord, { sha256: string }> }
  /** A row already in the audit journal, as the values journaled, under the number the server answered for it. */
  | { kind: "journaled"; values: EgressValues; token: number }
  | { kind: "usage"; entry: UsageEntry }
  | { kind: "not_sent"; id: number }
  | { kind: "not_sent_token"; token: number };

export type StoreThreadRequest =
  /**
   * `journals`: audit journal files whose rows are all in `rows` or came before; `through`: the file in
   * use, and how many of its records are in `rows` or came before (see audit-journal.ts).
   */
  | { op: "rows"; rows: QueuedRow[]; journals?: string[]; through?: { file: string; records: number } }
  | { op: "flush"; id: number }
  /** Commit these egress rows now (with whatever is queued) and answer their ids: see Store.commitEgress. */
  | { op: "audit"; id: number; records: Extract<EgressRecord, { sha256: string }>[] }
  | { op: "queryAudit"; id: number; query: AuditQuery }
  | { op: "queryRequests"; id: number; query: { since?: Date | number; limit?: number } }
  | { op: "queryUsage"; id: number; query: { since?: Date | number } }
  | { op: "health"; id: number }
  | { op: "getSecret"; id: number; name: string }
  /** One call on the stored responses and conversations (Store.stateCall); answered once committed. */
  | { op: "state"; id: number; method: StateMethod; args: unknown[] }
  /** One call on the memories (Store.memoryCall); answered once committed. */
  | { op: "memory"; id: number; method: MemoryMethod; args: unknown[] }
  /** One call on the Files API's files (Store.fileCall); answered once committed. */
  | { op: "files"; id: number; method: FileMethod; args: unknown[] }
  /** One call on the stored chat completions (Store.chatCompletionCall); answered once committed. */
  | { op: "chatCompletions"; id: number; method: ChatCompletionMethod; args: unknown[] }
  /** One call on the vector stores (Store.vectorStoreCall); answered once committed. */
  | { op: "vectorStores"; id: number; method: VectorStoreMethod; args: unknown[] }
  /** One call on the batches (Store.batchCall); answered once committed. */
  | { op: "batches"; id: number; method: BatchMethod; args: unknown[] }
  | { op: "close"; id: number };

export type StoreThreadReply =
  | { op: "ready" }
  | { op: "failed"; error: { code: string; message: string; file?: string } }
  | { op: "reply"; id: number; value?: unknown; error?: { code: string; message: string; file?: string } };

/**
 * The ArrayBuffer behind `bytes` when `bytes` fills it whole, so it can be moved to the other thread
 * (postMessage's transfer list) rather than copied: a 31 MB file took 120–170 ms of the sending
 * thread to copy, and 0.3 ms to move. A view of part of a buffer (Node's pool of small Buffers, a
 * slice) is not: moving it would empty the rest of the buffer for everyone else.
 */
export function movableBuffer(bytes: unknown): ArrayBuffer | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength &&
    buffer.byteLength > 0
    ? buffer
    : undefined;
}
