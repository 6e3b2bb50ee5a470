import type { FinishedBatchLine } from "../../core/batches.js";

/**
 * One line of an OpenAI batch's output or error file, as OpenAI writes it: `{id, custom_id,
 * response: {status_code, request_id, body} | null, error: {code, message} | null}`. A line the
 * server answered (any status) has its response; one that got no answer (cancelled, expired, no
 * answer at all) has its error.
 */
export function batchOutputLine(line: FinishedBatchLine): string {
  const { outcome } = line;
  return `${JSON.stringify({
    id: line.id,
    custom_id: line.customId,
    response:
      outcome.kind === "response" ? { status_code: outcome.statusCode, request_id: outcome.requestId, body: outcome.body } : null,
    error: outcome.kind === "error" ? { code: outcome.code, message: outcome.message } : null,
  })}\n`;
}
