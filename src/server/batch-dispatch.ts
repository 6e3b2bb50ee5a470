import type { BatchDispatch } from "../core/batches.js";
import { GatewayError } from "../core/errors.js";
import { makeId } from "../core/ids.js";
import type { Loopback } from "../dialects/shared/index.js";

/** The most of one line's answer kept (an embeddings answer of many inputs is the largest). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * The batch runner's way into this server: each line is a POST to its endpoint through the
 * server's loopback (Fastify's inject on the same app), so it takes every step a client's request
 * takes (the front door, the dialect's validation, routing and failover, privacy, the egress audit,
 * stored state, the request log). When client keys are set, the line carries the first of them (held
 * in memory only, never stored with the batch): a batch resumed after a restart has no client.
 */
export function batchDispatch(loopback: Loopback, clientKeys: readonly string[]): BatchDispatch {
  const key = clientKeys[0];
  return async (request) => {
    const answer = await loopback({
      method: "POST",
      url: request.url,
      headers: {
        "content-type": "application/json",
        ...(key !== undefined && { authorization: `Bearer ${key}` }),
        ...(request.sensitivity !== undefined && { "x-tandem-sensitivity": request.sensitivity }),
      },
      body: request.body,
      ...(request.declaredPrivate !== undefined && { declaredPrivate: request.declaredPrivate }),
      signal: request.signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        answer.cancel();
        throw new GatewayError("payload_too_large", `The answer to this request is larger than ${MAX_ANSWER_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    if (request.signal.aborted) throw new GatewayError("canceled", "The request was cancelled");
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (no route answers so): the text as it came.
    }
    // The route's own request id where it answers one (the Messages route's request-id), else a new one.
    const id = answer.headers["request-id"];
    const retryAfter = Number(answer.headers["retry-after"]);
    return {
      status: answer.status,
      body,
      requestId: typeof id === "string" ? id : makeId("req_"),
      ...(answer.headers["retry-after"] !== undefined && Number.isFinite(retryAfter) && { retryAfterMs: retryAfter * 1000 }),
    };
  };
}
