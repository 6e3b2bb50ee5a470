import { createHash } from "node:crypto";
import type Sqlite from "better-sqlite3-multiple-ciphers";
import type {
  AuditQuery,
  EgressAuditRow,
  EgressRecord,
  PruneResult,
  RequestLogEntry,
  RequestLogRow,
  UsageEntry,
  UsageRow,
} from "./records.js";

/*
 * The store's three log tables as rows and queries: the request log, the egress audit and usage per
 * target and day. How rows are queued, batched and retried is the Store's (store.ts); this file
 * knows only their columns.
 */

type Nullable<T> = T | null;
export type RequestValues = [
  number,
  Nullable<string>,
  Nullable<string>,
  string,
  number,
  number,
  Nullable<string>,
  Nullable<number>,
  Nullable<number>,
  Nullable<number>,
  Nullable<number>,
  Nullable<string>,
  Nullable<string>,
  Nullable<string>,
  Nullable<string>,
];
export type EgressValues = [number, string, Nullable<string>, string, string, string, number];
export type UsageValues = [string, string, number, number, number, Nullable<number>];

/** One egress audit row, in the order of EgressValues. */
export const INSERT_EGRESS =
  "INSERT INTO egress_audit (time, target, route, sensitivity, redactions, sha256, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)";

/** The prepared statements the write-behind queue runs, one per kind of row. */
export interface LogInserts {
  request: Sqlite.Statement<RequestValues>;
  egress: Sqlite.Statement<EgressValues>;
  usage: Sqlite.Statement<UsageValues>;
  notSent: Sqlite.Statement<[number]>;
  /** A journal file's rows are all in (see audit-journal.ts); it is deleted next. */
  journalDone: Sqlite.Statement<[string]>;
  /** The first `records` records of a journal file still in use are in. */
  journalThrough: Sqlite.Statement<[string, number]>;
  journalForget: Sqlite.Statement<[string]>;
  /** A file's mark: `records` null when it is done whole. */
  journalMark: Sqlite.Statement<[string], { records: number | null }>;
}

export function prepareLogInserts(db: Sqlite.Database): LogInserts {
  return {
    request: db.prepare<RequestValues>(
      `INSERT INTO request_log (time, route, target, dialect, status, attempts, degraded, latency_ms, ttft_ms,
           input_tokens, output_tokens, error_code, request_content, response_content, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    egress: db.prepare<EgressValues>(INSERT_EGRESS),
    usage: db.prepare<UsageValues>(
      `INSERT INTO usage (day, target, requests, input_tokens, output_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, target) DO UPDATE SET
           requests = requests + excluded.requests,
           input_tokens = input_tokens + excluded.input_tokens,
           output_tokens = output_tokens + excluded.output_tokens,
           cost_usd = CASE WHEN excluded.cost_usd IS NULL THEN cost_usd ELSE coalesce(cost_usd, 0) + excluded.cost_usd END`,
    ),
    notSent: db.prepare<[number]>("UPDATE egress_audit SET outcome = 'not_sent' WHERE id = ?"),
    journalDone: db.prepare<[string]>(
      "INSERT INTO audit_journal_done (file, records) VALUES (?, NULL) ON CONFLICT (file) DO UPDATE SET records = NULL",
    ),
    journalThrough: db.prepare<[string, number]>(
      // Never lowers a count, and never reopens a file marked done whole.
      `INSERT INTO audit_journal_done (file, records) VALUES (?, ?) ON CONFLICT (file) DO UPDATE
         SET records = max(records, excluded.records) WHERE records IS NOT NULL`,
    ),
    journalForget: db.prepare<[string]>("DELETE FROM audit_journal_done WHERE file = ?"),
    journalMark: db.prepare<[string], { records: number | null }>("SELECT records FROM audit_journal_done WHERE file = ?"),
  };
}

/** One request's log row; `content` only when the store keeps content. */
export function requestValues(entry: RequestLogEntry, content: RequestLogEntry["content"]): RequestValues {
  return [
    millis(entry.time),
    entry.route ?? null,
    entry.target ?? null,
    entry.dialect,
    Math.trunc(entry.status),
    Math.trunc(entry.attempts ?? 0),
    entry.degraded ?? null,
    int(entry.latencyMs),
    int(entry.ttftMs),
    int(entry.inputTokens),
    int(entry.outputTokens),
    entry.errorCode ?? null,
    content?.request ?? null,
    content?.response ?? null,
    entry.requestId ?? null,
  ];
}

/** Usage to add to the target's total for the (UTC) day. */
export function usageValues(entry: UsageEntry): UsageValues {
  return [
    new Date(millis(entry.time)).toISOString().slice(0, 10),
    entry.target,
    Math.trunc(entry.requests ?? 1),
    Math.trunc(entry.inputTokens ?? 0),
    Math.trunc(entry.outputTokens ?? 0),
    entry.costUsd ?? null,
  ];
}

/** An egress record as the row's values; undefined for a digest that is not 64 lowercase hex digits. */
export function egressValues(record: EgressRecord): EgressValues | undefined {
  let sha256: string;
  let bytes: number;
  if ("body" in record) {
    const body = typeof record.body === "string" ? Buffer.from(record.body, "utf8") : record.body;
    sha256 = createHash("sha256").update(body).digest("hex");
    bytes = body.byteLength;
  } else {
    if (!/^[0-9a-f]{64}$/.test(record.sha256)) return undefined;
    sha256 = record.sha256;
    bytes = record.bytes;
  }
  return [
    millis(record.time),
    record.target,
    record.route ?? null,
    record.sensitivity,
    JSON.stringify(record.redactions ?? {}),
    sha256,
    Math.trunc(bytes),
  ];
}

/** Newest egress audit rows first. */
export function selectAudit(db: Sqlite.Database, query: AuditQuery): EgressAuditRow[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.since !== undefined) {
    where.push("time >= ?");
    params.push(millis(query.since));
  }
  if (query.target !== undefined) {
    where.push("target = ?");
    params.push(query.target);
  }
  if (query.after !== undefined) {
    // The order below is (time, id) descending: the rows past the cursor's row in it.
    where.push("(time, id) < (SELECT time, id FROM egress_audit WHERE id = ?)");
    params.push(Math.trunc(query.after));
  }
  params.push(Math.max(1, Math.trunc(query.limit ?? 100)));
  const rows = db
    .prepare<(string | number)[], AuditDbRow>(
      `SELECT id, time, target, route, sensitivity, redactions, sha256, bytes, outcome FROM egress_audit
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY time DESC, id DESC LIMIT ?`,
    )
    .all(...params);
  return rows.map((r) => ({
    id: r.id,
    time: new Date(r.time),
    target: r.target,
    route: r.route,
    sensitivity: r.sensitivity,
    redactions: parseCounts(r.redactions),
    sha256: r.sha256,
    bytes: r.bytes,
    sent: r.outcome !== "not_sent",
  }));
}

/** Newest request log rows first. */
export function selectRequests(db: Sqlite.Database, query: { since?: Date | number; limit?: number }): RequestLogRow[] {
  const since = query.since === undefined ? Number.MIN_SAFE_INTEGER : millis(query.since);
  const limit = Math.max(1, Math.trunc(query.limit ?? 100));
  const rows = db
    .prepare<[number, number], RequestDbRow>(
      `SELECT id, time, request_id, route, target, dialect, status, attempts, degraded, latency_ms, ttft_ms, input_tokens,
         output_tokens, error_code, request_content, response_content
       FROM request_log WHERE time >= ? ORDER BY time DESC, id DESC LIMIT ?`,
    )
    .all(since, limit);
  return rows.map((r) => ({
    id: r.id,
    time: new Date(r.time),
    requestId: r.request_id,
    route: r.route,
    target: r.target,
    dialect: r.dialect,
    status: r.status,
    attempts: r.attempts,
    degraded: r.degraded,
    latencyMs: r.latency_ms,
    ttftMs: r.ttft_ms,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    errorCode: r.error_code,
    requestContent: r.request_content,
    responseContent: r.response_content,
  }));
}

/** Usage per target per day, newest day first. */
export function selectUsage(db: Sqlite.Database, query: { since?: Date | number }): UsageRow[] {
  const day = query.since === undefined ? "" : new Date(millis(query.since)).toISOString().slice(0, 10);
  const rows = db
    .prepare<[string], UsageDbRow>(
      `SELECT day, target, requests, input_tokens, output_tokens, cost_usd FROM usage WHERE day >= ?
       ORDER BY day DESC, target`,
    )
    .all(day);
  return rows.map((r) => ({
    day: r.day,
    target: r.target,
    requests: r.requests,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    costUsd: r.cost_usd,
  }));
}

/** Clears logged content from before `contentBefore` and deletes log and audit rows from before `rowsBefore` (ms). */
export function pruneLogs(db: Sqlite.Database, contentBefore: number, rowsBefore: number): PruneResult {
  return db
    .transaction(() => ({
      contentCleared: db
        .prepare(
          `UPDATE request_log SET request_content = NULL, response_content = NULL
           WHERE time < ? AND (request_content IS NOT NULL OR response_content IS NOT NULL)`,
        )
        .run(contentBefore).changes,
      requestsDeleted: db.prepare("DELETE FROM request_log WHERE time < ?").run(rowsBefore).changes,
      auditDeleted: db.prepare("DELETE FROM egress_audit WHERE time < ?").run(rowsBefore).changes,
    }))
    .immediate();
}

interface AuditDbRow {
  id: number;
  time: number;
  target: string;
  route: string | null;
  sensitivity: string;
  redactions: string;
  sha256: string;
  bytes: number;
  outcome: string | null;
}

interface RequestDbRow {
  id: number;
  time: number;
  request_id: string | null;
  route: string | null;
  target: string | null;
  dialect: string;
  status: number;
  attempts: number;
  degraded: string | null;
  latency_ms: number | null;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  error_code: string | null;
  request_content: string | null;
  response_content: string | null;
}

interface UsageDbRow {
  day: string;
  target: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
}

function millis(time: Date | number | undefined): number {
  if (time === undefined) return Date.now();
  return typeof time === "number" ? Math.trunc(time) : time.getTime();
}

function int(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : Math.round(value);
}

function parseCounts(text: string): Record<string, number> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v === "number") out[k] = v;
    return out;
  } catch {
    return {};
  }
}
