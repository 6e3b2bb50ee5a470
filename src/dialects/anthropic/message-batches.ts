import { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import { BatchError, type Batches, type BatchLine } from "../../core/batches.js";
import { type FileSensitivity, GatewayError } from "../../core/index.js";
import { headerSensitivity } from "../../privacy/index.js";
import type { RouteTable } from "../shared/index.js";
import { renderMessageBatch, renderMessageBatchResult } from "./render-message-batch.js";

const PREFIX = "msgbatch_";
/** Anthropic's custom_id: 1 to 64 letters, digits, hyphens and underscores. */
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** Finished lines read at a time for the results. */
const RESULTS_PAGE = 500;

/**
 * Anthropic's Message Batches API over tandem's batches (the same runner as OpenAI's Batch API):
 * create with the requests inline (each line a POST /v1/messages through this server), retrieve,
 * list (newest first, `before_id`/`after_id`/`limit`), cancel, the results as JSONL once ended,
 * and delete once ended. Errors in Anthropic's shape (the dialect renders every GatewayError).
 */
export function registerMessageBatchRoutes(app: RouteTable, batches: Batches): void {
  app.post("/v1/messages/batches", async (request) => {
    const lines = parseRequests(request.body);
    // The level the client declared (x-tandem-sensitivity) goes with every line.
    const declared = headerSensitivity(request.headers);
    const sensitivity: FileSensitivity | undefined = declared === "public" ? undefined : declared;
    const batch = await batchCall(() =>
      batches.create({
        endpoint: "/v1/messages",
        completionWindow: "24h",
        lines,
        ...(sensitivity !== undefined && { sensitivity }),
        idPrefix: PREFIX,
      }),
    );
    return renderMessageBatch(batch, originOf(request));
  });

  app.get("/v1/messages/batches", async (request) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const limit = parseLimit(q.limit);
    const before = single(q.before_id, "before_id");
    const after = single(q.after_id, "after_id");
    if (before !== undefined && after !== undefined) throw invalid("before_id and after_id cannot be given together.");
    const page = await batches.list({
      prefix: PREFIX,
      limit,
      ...(before !== undefined && { before }),
      ...(after !== undefined && { after }),
    });
    if (page.unknownCursor !== undefined) {
      const id = String(page.unknownCursor === "before" ? before : after).slice(0, 200);
      throw new GatewayError("not_found", `No message batch found with id '${id}' (${page.unknownCursor}_id).`);
    }
    const data = page.data.map((b) => renderMessageBatch(b, originOf(request)));
    return {
      data,
      has_more: page.hasMore,
      first_id: (data[0]?.id as string | undefined) ?? null,
      last_id: (data.at(-1)?.id as string | undefined) ?? null,
    };
  });

  app.get("/v1/messages/batches/:id", async (request) => renderMessageBatch(await batchOf(batches, request), originOf(request)));

  app.post("/v1/messages/batches/:id/cancel", async (request) => {
    const id = idOf(request);
    const batch = id.startsWith(PREFIX) ? await batchCall(() => batches.cancel(id)) : undefined;
    if (batch === undefined) throw noSuchBatch(id);
    return renderMessageBatch(batch, originOf(request));
  });

  app.get("/v1/messages/batches/:id/results", async (request, reply) => {
    const batch = await batchOf(batches, request);
    if (!["completed", "cancelled", "expired", "failed"].includes(batch.status)) {
      throw new GatewayError("not_found", `The results of message batch '${batch.id}' are not available until it has ended.`);
    }
    const id = batch.id;
    async function* results(): AsyncGenerator<string> {
      for (let after = -1; ; ) {
        const page = await batches.finishedLines(id, after, RESULTS_PAGE);
        if (page.length === 0) return;
        yield page.map(renderMessageBatchResult).join("");
        after = (page.at(-1) as { index: number }).index;
      }
    }
    return reply.code(200).header("content-type", "application/x-jsonl").send(Readable.from(results()));
  });

  app.delete("/v1/messages/batches/:id", async (request) => {
    const id = idOf(request);
    const deleted = id.startsWith(PREFIX) && (await batchCall(() => batches.delete(id)));
    if (!deleted) throw noSuchBatch(id);
    return { id, type: "message_batch_deleted" };
  });
}

/** `requests`: 1 or more `{custom_id, params}`, each custom_id unique; a 400 naming the request otherwise. */
function parseRequests(body: unknown): BatchLine[] {
  const requests = (body as { requests?: unknown } | null | undefined)?.requests;
  if (!Array.isArray(requests)) throw invalid("requests: Field required (an array of {custom_id, params}).");
  if (requests.length === 0) throw invalid("requests: List should have at least 1 item.");
  const seen = new Set<string>();
  return requests.map((entry: unknown, index): BatchLine => {
    const at = `requests.${index}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw invalid(`${at}: Input should be an object.`);
    const { custom_id: customId, params } = entry as Record<string, unknown>;
    if (typeof customId !== "string" || !CUSTOM_ID.test(customId)) {
      throw invalid(`${at}.custom_id: String should be 1 to 64 letters, digits, hyphens or underscores.`);
    }
    if (seen.has(customId))
      throw invalid(`${at}.custom_id: Duplicate custom_id '${customId}'; each request in a batch needs its own.`);
    seen.add(customId);
    if (typeof params !== "object" || params === null || Array.isArray(params))
      throw invalid(`${at}.params: Field required (an object).`);
    return { index, customId, body: params as Record<string, unknown> };
  });
}

async function batchOf(batches: Batches, request: FastifyRequest) {
  const id = idOf(request);
  const batch = id.startsWith(PREFIX) ? await batches.get(id) : undefined;
  if (batch === undefined) throw noSuchBatch(id);
  return batch;
}

/** A BatchError as the GatewayError the dialect renders: not_found_error 404, invalid_request_error 400, conflict_error 409. */
async function batchCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof BatchError)) throw err;
    if (err.kind === "not_found") throw new GatewayError("not_found", err.message);
    throw new GatewayError("invalid_request", err.message, err.kind === "conflict" ? { status: 409 } : {});
  }
}

function idOf(request: FastifyRequest): string {
  return String((request.params as { id?: unknown }).id ?? "");
}

function noSuchBatch(id: string): GatewayError {
  return new GatewayError("not_found", `No message batch found with id '${id.slice(0, 200)}'.`);
}

function invalid(message: string): GatewayError {
  return new GatewayError("invalid_request", message);
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw invalid(`${name}: expected a single value.`);
  return value;
}

/** `limit`: 1 to 1000, default 20, as Anthropic's lists. */
function parseLimit(value: unknown): number {
  const text = single(value, "limit");
  if (text === undefined) return 20;
  const limit = Number(text);
  if (!/^\d{1,7}$/.test(text) || limit < 1 || limit > 1000)
    throw invalid(`limit: Input should be an integer from 1 to 1000 (got '${text.slice(0, 50)}').`);
  return limit;
}

/** Where the client reached this server (its Host), for `results_url`: the SDK fetches it as given. */
function originOf(request: FastifyRequest): string {
  const host = request.headers.host ?? "127.0.0.1";
  return `${request.protocol}://${host}`;
}
