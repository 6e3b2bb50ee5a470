/**
 * Batches (OpenAI's Batch API; Anthropic's Message Batches): many requests given at once and run
 * later, each line through tandem's own request pipeline as if a client had sent it (routing,
 * failover, privacy, the egress audit, stored state), results kept line by line so that a crash
 * loses nothing done. The harness runs them (harness/batches/) over a `BatchStore` (the encrypted
 * store's, or in memory); the server gives it a `BatchDispatch` that answers one line as this
 * server answers a request; the dialects mount the APIs over `Batches`.
 */
import type { FileSensitivity } from "./files.js";
import { makeId } from "./ids.js";
import type { ListPage } from "./state.js";

/** A batch's status, as OpenAI names them (Anthropic's `processing_status` is read from it). */
export type BatchStatus =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled";

/** The statuses a batch is still being worked on in: a start resumes these. */
export const UNFINISHED_BATCH_STATUSES: readonly BatchStatus[] = ["validating", "in_progress", "finalizing", "cancelling"];

/** The endpoints a batch's lines can be sent to (all of one batch to the same one). */
export const BATCH_ENDPOINTS = [
  "/v1/responses",
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/completions",
  "/v1/messages",
] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

/** Tokens the batch's lines used so far, summed from each answer's own `usage`. */
export interface BatchUsage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from a prompt cache. */
  cachedTokens: number;
  reasoningTokens: number;
}

export const NO_BATCH_USAGE: BatchUsage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0, reasoningTokens: 0 };

/** Two usages summed. */
export function addBatchUsage(a: BatchUsage, b: BatchUsage): BatchUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

/** A finished line's id in the output (`batch_req_…`, as OpenAI's). */
export function batchLineId(): string {
  return makeId("batch_req_", 32);
}

/** Why an input file was refused (OpenAI's BatchError): a line of it, or the whole file. */
export interface BatchInputError {
  code: string;
  message: string;
  /** 1-based line of the input file; absent for the file as a whole. */
  line?: number;
  param?: string;
}

/** A batch as stored: what its API objects show, less the counts (read from its lines). Times in seconds. */
export interface BatchRecord {
  /** `batch_…` (OpenAI) or `msgbatch_…` (Anthropic). */
  id: string;
  endpoint: BatchEndpoint;
  /** The Files API file the lines came from; absent when they came in the request (Anthropic). */
  inputFileId?: string;
  completionWindow: string;
  status: BatchStatus;
  createdAt: number;
  /** When the completion window closes: lines not finished by then end `expired`. */
  expiresAt: number;
  inProgressAt?: number;
  finalizingAt?: number;
  completedAt?: number;
  failedAt?: number;
  expiredAt?: number;
  cancellingAt?: number;
  cancelledAt?: number;
  /** Why validation refused the input file (status `failed`). */
  errors?: BatchInputError[];
  outputFileId?: string;
  errorFileId?: string;
  metadata?: Record<string, string>;
  /** The model every line names, when they name one. */
  model?: string;
  usage: BatchUsage;
  /** Seconds after their creation that the output and error files expire; absent: kept until deleted. */
  outputExpiresAfter?: number;
  /**
   * The level the client declared (`x-tandem-sensitivity` of the create request, or of the input
   * file's upload): every line is sent with it, so detection can only raise it.
   */
  sensitivity?: FileSensitivity;
  /**
   * The input file was uploaded as private: each line is content declared private where tandem keeps
   * it (BatchLineRequest.declaredPrivate), which redaction cannot make safe, not a level the client
   * declares on the request (which a `redact` route redacts).
   */
  declaredPrivate?: true;
}

/** The fields a status change sets. */
export type BatchPatch = Partial<Omit<BatchRecord, "id" | "endpoint" | "inputFileId" | "createdAt" | "completionWindow">>;

/** How many lines are in each state (Anthropic's `request_counts`; OpenAI's is read from it). */
export interface BatchCounts {
  total: number;
  /** Not finished yet. */
  processing: number;
  /** Answered with a 2xx. */
  succeeded: number;
  /** Answered with an error, or not answered (no target could). */
  errored: number;
  /** Not run, or stopped, because the batch was cancelled. */
  canceled: number;
  /** Not run because the completion window closed first. */
  expired: number;
}

export interface Batch extends BatchRecord {
  counts: BatchCounts;
}

/** One request of a batch, as validated. */
export interface BatchLine {
  /** 0-based place in the batch (the order of the input file, and of the output). */
  index: number;
  customId: string;
  body: Record<string, unknown>;
}

/** How a line ended. */
export type BatchLineResult = "succeeded" | "errored" | "canceled" | "expired";

/** A line's outcome: the answer it got (any status), or why it got none. */
export type BatchLineOutcome =
  | { kind: "response"; statusCode: number; requestId: string; body: unknown }
  | { kind: "error"; code: string; message: string };

export interface FinishedBatchLine {
  index: number;
  customId: string;
  /** `batch_req_…`: the output line's id. */
  id: string;
  result: BatchLineResult;
  outcome: BatchLineOutcome;
}

/** One page of batches, newest first. */
export interface BatchListOptions {
  /** Only batches whose id starts so (`batch_` for OpenAI's list, `msgbatch_` for Anthropic's); a cursor of another kind names nothing. */
  prefix: string;
  /** The page just older than this batch. */
  after?: string;
  /** The page just newer than this batch. */
  before?: string;
  limit: number;
}

/**
 * Where batches and their lines live. Every method may be called concurrently; an unknown id
 * answers `undefined` (or `false`), never throws. Each write is one transaction.
 */
export interface BatchStore {
  /** Stores a new batch, with its lines when they are known already (an Anthropic batch's). */
  createBatch(batch: BatchRecord, lines?: readonly BatchLine[]): Promise<void>;
  getBatch(id: string): Promise<Batch | undefined>;
  /** Newest first; `after`/`before` as ids in that order (one naming nothing: ListPage.unknownCursor). */
  listBatches(options: BatchListOptions): Promise<ListPage<Batch>>;
  /** Sets `patch` when the batch's status is one of `from`; the batch after, or undefined (unknown, or another status). */
  updateBatch(id: string, patch: BatchPatch, from: readonly BatchStatus[]): Promise<Batch | undefined>;
  /** The validated lines and the patch that starts them, together, when the batch is still `validating`; false otherwise. */
  addLines(id: string, lines: readonly BatchLine[], patch: BatchPatch): Promise<boolean>;
  /** Up to `limit` lines not finished yet, past `afterIndex`, in order. */
  pendingLines(id: string, afterIndex: number, limit: number): Promise<BatchLine[]>;
  /**
   * Records a line's outcome, and adds `usage` to the batch's, when the line is not finished yet;
   * false when it was (or the batch is gone).
   */
  finishLine(batchId: string, line: FinishedBatchLine, usage?: BatchUsage): Promise<boolean>;
  /** Ends every line not finished yet as `result` (canceled or expired) with `outcome`; how many. */
  finishPending(batchId: string, result: "canceled" | "expired", outcome: BatchLineOutcome): Promise<number>;
  /** Up to `limit` finished lines past `afterIndex`, in order. */
  finishedLines(batchId: string, afterIndex: number, limit: number): Promise<FinishedBatchLine[]>;
  /** Every batch in an unfinished status (UNFINISHED_BATCH_STATUSES), oldest first. */
  unfinishedBatches(): Promise<BatchRecord[]>;
  /** Deletes a batch and its lines. */
  deleteBatch(id: string): Promise<boolean>;
}

/** One line as this server is to answer it: POSTed to `url` with `body`, as a client would send it. */
export interface BatchLineRequest {
  url: BatchEndpoint;
  body: Record<string, unknown>;
  /**
   * Sent as `x-tandem-sensitivity`. Only `private`: a header declares a level outright (detection
   * does not raise it), so an `internal` batch's lines are left to detection instead.
   */
  sensitivity?: "private";
  /**
   * What the line is, when it was declared private where tandem keeps it (a line of a file uploaded
   * as private): the line's request is held to it as to a private file it names
   * (ChatRequest.declaredPrivate; it goes as the loopback's LoopbackRequest.declaredPrivate), so a
   * `redact` route keeps it on local targets or refuses it.
   */
  declaredPrivate?: string;
  /** Cancels the line as a client leaving does (the upstream work stops). */
  signal: AbortSignal;
}

/** The answer: its status and JSON body (or its text when it is not JSON), and the request's id. */
export interface BatchLineAnswer {
  status: number;
  body: unknown;
  requestId: string;
  /** The answer's Retry-After, in ms, when it has one: a 429, 503 or 529 with it says to come back, not that the line failed. */
  retryAfterMs?: number;
}

/**
 * Answers one line through this server's own request pipeline (the server makes it: Fastify's
 * inject on the same app). Rejects only when no answer could be had (cancelled, the server closing).
 */
export type BatchDispatch = (request: BatchLineRequest) => Promise<BatchLineAnswer>;

/** What a client asks to create. */
export interface NewBatch {
  endpoint: BatchEndpoint;
  completionWindow: "24h";
  /** The Files API file of the lines (OpenAI); validated in the background. */
  inputFileId?: string;
  /** The lines themselves (Anthropic), already validated. */
  lines?: BatchLine[];
  metadata?: Record<string, string>;
  outputExpiresAfter?: number;
  /** The create request's declared level (x-tandem-sensitivity), if more than public. */
  sensitivity?: FileSensitivity;
  /** `batch_` or `msgbatch_`. */
  idPrefix: string;
}

/** What a caller asked wrong: an unknown id (404), a bad value (400), or a batch in a state that forbids it (409). */
export class BatchError extends Error {
  override readonly name = "BatchError";
  readonly kind: "not_found" | "invalid" | "conflict";
  readonly param: string | undefined;

  constructor(kind: "not_found" | "invalid" | "conflict", message: string, param?: string) {
    super(message);
    this.kind = kind;
    this.param = param;
  }
}

/** The batches as the routes use them (harness/batches/batch-runner.ts). Unknown ids answer undefined. */
export interface Batches {
  create(batch: NewBatch): Promise<Batch>;
  get(id: string): Promise<Batch | undefined>;
  list(options: BatchListOptions): Promise<ListPage<Batch>>;
  /** Starts cancelling (throws BatchError `conflict` once the batch has ended otherwise). */
  cancel(id: string): Promise<Batch | undefined>;
  /** Up to `limit` finished lines past `afterIndex`, in order (results). */
  finishedLines(id: string, afterIndex: number, limit: number): Promise<FinishedBatchLine[]>;
  /** Deletes an ended batch (throws BatchError `conflict` while it runs); false: unknown. */
  delete(id: string): Promise<boolean>;
  /** Seconds since the epoch, by the runner's clock. */
  now(): number;
}
