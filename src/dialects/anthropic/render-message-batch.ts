import type { Batch, FinishedBatchLine } from "../../core/batches.js";

/**
 * A batch as Anthropic's MessageBatch (the SDK's `MessageBatch`): `processing_status` from tandem's
 * status (`in_progress` until it ends, `canceling` while cancelling, then `ended`), the counts by
 * result, RFC 3339 times, and `results_url` once it has ended (`origin` + the results path, which
 * the SDK's `batches.results()` fetches).
 */
export function renderMessageBatch(batch: Batch, origin: string): Record<string, unknown> {
  const ended = batch.completedAt ?? batch.cancelledAt ?? batch.expiredAt ?? batch.failedAt;
  const status =
    batch.status === "cancelling"
      ? "canceling"
      : ["completed", "cancelled", "expired", "failed"].includes(batch.status)
        ? "ended"
        : "in_progress";
  return {
    id: batch.id,
    type: "message_batch",
    processing_status: status,
    request_counts: {
      processing: batch.counts.processing,
      succeeded: batch.counts.succeeded,
      errored: batch.counts.errored,
      canceled: batch.counts.canceled,
      expired: batch.counts.expired,
    },
    ended_at: status === "ended" && ended !== undefined ? rfc3339(ended) : null,
    created_at: rfc3339(batch.createdAt),
    expires_at: rfc3339(batch.expiresAt),
    archived_at: null,
    cancel_initiated_at: batch.cancellingAt === undefined ? null : rfc3339(batch.cancellingAt),
    results_url: status === "ended" ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
  };
}

/**
 * One line of a batch's results as Anthropic writes it (`MessageBatchIndividualResponse`):
 * `{custom_id, result}` with the Message that succeeded, the error response of one that failed
 * (the Messages route's own error body, its `request_id` with it), or only `canceled` / `expired`.
 */
export function renderMessageBatchResult(line: FinishedBatchLine): string {
  const { outcome } = line;
  let result: Record<string, unknown>;
  if (line.result === "canceled" || line.result === "expired") result = { type: line.result };
  else if (outcome.kind === "response" && line.result === "succeeded") result = { type: "succeeded", message: outcome.body };
  else if (outcome.kind === "response") result = { type: "errored", error: errorResponse(outcome.body, outcome.requestId) };
  else {
    result = {
      type: "errored",
      error: { type: "error", error: { type: "api_error", message: outcome.message }, request_id: null },
    };
  }
  return `${JSON.stringify({ custom_id: line.customId, result })}\n`;
}

/** An error answer's body as Anthropic's ErrorResponse (`{type: "error", error, request_id}`), whatever it was. */
function errorResponse(body: unknown, requestId: string): Record<string, unknown> {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined;
  if (record?.type === "error" && typeof record.error === "object") return { request_id: requestId, ...record };
  return { type: "error", error: { type: "api_error", message: String(body).slice(0, 1000) }, request_id: requestId };
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
