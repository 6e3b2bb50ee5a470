/** What one request did, as the server logs it. Content is kept only when content logging is on. */
export interface RequestLogEntry {
  /** When the request arrived. Default: now. */
  time?: Date | number;
  /** The id the client was given for the request (`req_...`, its `x-request-id` or `request-id`), as the log line has it. */
  requestId?: string;
  /** The route the client named; undefined when it named a target. */
  route?: string;
  /** The target (`provider/model`) that answered; for a stream, the first one. */
  target?: string;
  /** The client's API: openai, anthropic, ollama. */
  dialect: string;
  /** The HTTP status sent to the client. */
  status: number;
  /** Upstream attempts made. Default 0. */
  attempts?: number;
  /** Why the answer was degraded; undefined when it was not. */
  degraded?: string;
  latencyMs?: number;
  /** Time to the first token (streams). */
  ttftMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** The GatewayError code, when the request failed. */
  errorCode?: string;
  /** The conversation sent and the answer, stored only when the store was opened with logContent. */
  content?: { request?: string; response?: string };
}

/** A request log row as read back. */
export interface RequestLogRow {
  id: number;
  time: Date;
  /** The id the client was given (`req_...`); null for a row written before tandem kept it. */
  requestId: string | null;
  route: string | null;
  target: string | null;
  dialect: string;
  status: number;
  attempts: number;
  degraded: string | null;
  latencyMs: number | null;
  ttftMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  errorCode: string | null;
  requestContent: string | null;
  responseContent: string | null;
}

/**
 * Bytes that left the machine for a cloud target. The store keeps their SHA-256 and length, never the
 * bytes: pass `body` and it is hashed at once (nothing of it is queued), or pass a digest made earlier.
 */
export type EgressRecord = {
  /** Default: now. */
  time?: Date | number;
  target: string;
  route?: string;
  /** How the privacy layer classified the request, e.g. "public" or "private". */
  sensitivity: string;
  /** What was redacted before sending, as counts by kind, e.g. { email: 2, phone: 1 }. */
  redactions?: Readonly<Record<string, number>>;
} & ({ body: string | Uint8Array } | { sha256: string; bytes: number });

/** An egress audit row as read back. */
export interface EgressAuditRow {
  id: number;
  time: Date;
  target: string;
  route: string | null;
  sensitivity: string;
  redactions: Record<string, number>;
  sha256: string;
  bytes: number;
  /**
   * False when tandem knows that no byte of the body left: the row is committed before sending, and
   * marked afterwards when the connection was never made (refused, unreachable, canceled first).
   * True means sent, or may have been (the mark is best-effort: a crash right after a refused
   * connection leaves it true, erring on the side of "it left").
   */
  sent: boolean;
}

/** Usage to add to a target's total for the day (UTC) of `time`. */
export interface UsageEntry {
  target: string;
  /** Default: now. */
  time?: Date | number;
  /** Default 1. */
  requests?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Estimated cost in US dollars, when the price is known. */
  costUsd?: number;
}

/** One target's usage on one day. */
export interface UsageRow {
  /** YYYY-MM-DD, UTC. */
  day: string;
  target: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Null while no request of the day had a known price. */
  costUsd: number | null;
}

/** A secret's name and dates; the value is read only with getSecret. */
export interface SecretInfo {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface AuditQuery {
  /** Only rows at or after this time. */
  since?: Date | number;
  /** Newest first, at most this many. Default 100. */
  limit?: number;
  target?: string;
  /**
   * Paging: only rows that come after the row with this id in newest-first order (older, or as old
   * with a smaller id). A cursor whose row is gone (pruned) gives no rows.
   */
  after?: number;
}

export interface PruneResult {
  /** Request rows whose content was cleared because it was older than the retention period. */
  contentCleared: number;
  /** Request log rows deleted because they were older than the log retention period. */
  requestsDeleted: number;
  /** Egress audit rows deleted because they were older than the log retention period. */
  auditDeleted: number;
}
