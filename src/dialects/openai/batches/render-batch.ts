import type { Batch } from "../../../core/batches.js";

/**
 * A batch as OpenAI's Batch object (the openai SDK's `Batch`, the spec's `Batch`): every time that
 * has happened, the counts (lines answered with a 2xx are `completed`; every other finished line,
 * cancelled and expired ones too, is `failed` and in the error file), the usage summed from the
 * answers, and `errors` only when validation refused the input file. Times not reached yet are left
 * out, as the spec types them (not nullable).
 */
export function renderBatch(batch: Batch): Record<string, unknown> {
  const { counts } = batch;
  return {
    id: batch.id,
    object: "batch",
    endpoint: batch.endpoint,
    ...(batch.model !== undefined && { model: batch.model }),
    ...(batch.errors !== undefined && {
      errors: {
        object: "list",
        data: batch.errors.map((e) => ({ code: e.code, message: e.message, param: e.param ?? null, line: e.line ?? null })),
      },
    }),
    input_file_id: batch.inputFileId ?? "",
    completion_window: batch.completionWindow,
    status: batch.status,
    ...(batch.outputFileId !== undefined && { output_file_id: batch.outputFileId }),
    ...(batch.errorFileId !== undefined && { error_file_id: batch.errorFileId }),
    created_at: batch.createdAt,
    ...(batch.inProgressAt !== undefined && { in_progress_at: batch.inProgressAt }),
    expires_at: batch.expiresAt,
    ...(batch.finalizingAt !== undefined && { finalizing_at: batch.finalizingAt }),
    ...(batch.completedAt !== undefined && { completed_at: batch.completedAt }),
    ...(batch.failedAt !== undefined && { failed_at: batch.failedAt }),
    ...(batch.expiredAt !== undefined && { expired_at: batch.expiredAt }),
    ...(batch.cancellingAt !== undefined && { cancelling_at: batch.cancellingAt }),
    ...(batch.cancelledAt !== undefined && { cancelled_at: batch.cancelledAt }),
    request_counts: {
      total: counts.total,
      completed: counts.succeeded,
      failed: counts.errored + counts.canceled + counts.expired,
    },
    usage: {
      input_tokens: batch.usage.inputTokens,
      input_tokens_details: { cached_tokens: batch.usage.cachedTokens },
      output_tokens: batch.usage.outputTokens,
      output_tokens_details: { reasoning_tokens: batch.usage.reasoningTokens },
      total_tokens: batch.usage.inputTokens + batch.usage.outputTokens,
    },
    metadata: batch.metadata ?? null,
  };
}
