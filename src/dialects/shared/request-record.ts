import type { FastifyRequest } from "fastify";
import type { GatewayError, ResponseMeta, Usage } from "../../core/index.js";

/** What one request did, filled in as it goes; logged and counted when the response ends. */
export interface RequestRecord {
  startedAt: number;
  dialect: string;
  model?: string;
  stream?: boolean;
  meta?: ResponseMeta;
  /** The route the request goes by, once known (RequestContext.onRouted): its label while there is no `meta`. */
  route?: string;
  firstEventMs?: number;
  usage?: Usage;
  error?: GatewayError;
  streamError?: GatewayError;
  /** Set (empty) when the store keeps content: the conversation and the answer, as JSON. */
  content?: { request?: string; response?: string };
  /** Fails the request when its body takes longer than `server.bodyTimeoutMs` to arrive. */
  bodyTimer?: { clear(): void };
  /**
   * The JSON body's text as it came (bodies parsed at once, under 1 MiB), so the same-wire
   * pass-through can send it with only its own fields edited (NativeRequest.text).
   */
  bodyText?: string;
  /**
   * Fires when tandem's shutdown ends the requests still running (server.shutdownGraceMs has
   * passed); clientSignal follows it, so the request's upstream work stops as for a client that left.
   */
  shutdown?: AbortSignal;
  /**
   * A background run's own turn: the id of the client's request that started the run, which its log
   * line names (`startedBy`) so that the client's `x-request-id` finds both lines.
   */
  startedBy?: string;
}

const records = new WeakMap<FastifyRequest, RequestRecord>();

export function requestRecord(request: FastifyRequest): RequestRecord {
  let record = records.get(request);
  if (!record) {
    record = { startedAt: performance.now(), dialect: "unknown" };
    records.set(request, record);
  }
  return record;
}
