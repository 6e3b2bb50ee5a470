import type { FastifyRequest } from "fastify";
import { type BatchEndpoint, BatchError, type Batches } from "../../../core/batches.js";
import type { RouteTable } from "../../shared/index.js";
import {
  cursorChecked,
  declaredFileSensitivity,
  invalidParam,
  parseMetadata,
  parsePaging,
  refuseUnknownFields,
  renderList,
  StateApiError,
  stateRoute,
  typeOf,
} from "../state/index.js";
import { renderBatch } from "./render-batch.js";

/** What OpenAI accepts as `endpoint` (the openai SDK's BatchCreateParams) and tandem serves. */
const ENDPOINTS: readonly BatchEndpoint[] = ["/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions"];
/** What OpenAI accepts but tandem has no route for. */
const UNSERVED = ["/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos"];
const PREFIX = "batch_";
const MIN_OUTPUT_EXPIRY = 3600;
const MAX_OUTPUT_EXPIRY = 2_592_000;

/**
 * OpenAI's Batch API over tandem's batches (harness/batches/): create from a Files API file of
 * purpose `batch`, retrieve, list (newest first, `after`/`limit`) and cancel. Each line runs through
 * this server as a request of its own; the results are Files API files of purpose `batch_output`.
 */
export function registerBatchRoutes(app: RouteTable, batches: Batches): void {
  app.post(
    "/v1/batches",
    route(async (request) => {
      const body = request.body;
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw invalidParam("body", `Invalid type for body: expected an object, but got ${typeOf(body)} instead.`, "invalid_type");
      }
      const fields = body as Record<string, unknown>;
      // The openai SDK's BatchCreateParams; anything else is refused as tandem's other OpenAI routes refuse it.
      refuseUnknownFields(fields, ["input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"]);
      const inputFileId = requiredString(fields.input_file_id, "input_file_id");
      const endpoint = requiredString(fields.endpoint, "endpoint");
      if (!(ENDPOINTS as readonly string[]).includes(endpoint)) {
        throw invalidParam(
          "endpoint",
          UNSERVED.includes(endpoint)
            ? `tandem does not serve '${endpoint}', so it cannot run a batch of it. Supported values are: ${ENDPOINTS.map((e) => `'${e}'`).join(", ")}.`
            : `Invalid value: '${endpoint.slice(0, 100)}'. Supported values are: ${ENDPOINTS.map((e) => `'${e}'`).join(", ")}.`,
        );
      }
      const window = requiredString(fields.completion_window, "completion_window");
      if (window !== "24h") {
        throw invalidParam("completion_window", `Invalid value: '${window.slice(0, 100)}'. Supported values are: '24h'.`);
      }
      const metadata = fields.metadata === undefined || fields.metadata === null ? undefined : parseMetadata(fields.metadata);
      const outputExpiresAfter = parseOutputExpiresAfter(fields.output_expires_after);
      const sensitivity = declaredFileSensitivity(request.headers);
      const batch = await batches.create({
        endpoint: endpoint as BatchEndpoint,
        completionWindow: "24h",
        inputFileId,
        ...(metadata !== undefined && { metadata }),
        ...(outputExpiresAfter !== undefined && { outputExpiresAfter }),
        ...(sensitivity !== undefined && { sensitivity }),
        idPrefix: PREFIX,
      });
      return renderBatch(batch);
    }),
  );

  app.get(
    "/v1/batches",
    route(async (request) => {
      const paging = parsePaging(request.query, { defaultLimit: 20, maxLimit: 100 });
      const options = { prefix: PREFIX, limit: paging.limit, ...(paging.after !== undefined && { after: paging.after }) };
      const page = cursorChecked(await batches.list(options), options, "Batch");
      return renderList(page.data.map(renderBatch), page.hasMore);
    }),
  );

  app.get(
    "/v1/batches/:id",
    route(async (request) => {
      const id = idOf(request);
      const batch = id.startsWith(PREFIX) ? await batches.get(id) : undefined;
      if (batch === undefined) throw noSuchBatch(id);
      return renderBatch(batch);
    }),
  );

  app.post(
    "/v1/batches/:id/cancel",
    route(async (request) => {
      const id = idOf(request);
      const batch = id.startsWith(PREFIX) ? await batches.cancel(id) : undefined;
      if (batch === undefined) throw noSuchBatch(id);
      return renderBatch(batch);
    }),
  );
}

/** A route whose BatchErrors are OpenAI's errors: 404 for an unknown id, 400 for a bad value, 409 for a batch in the wrong state. */
function route(handler: Parameters<typeof stateRoute>[0]): ReturnType<typeof stateRoute> {
  return stateRoute(async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (err) {
      if (!(err instanceof BatchError)) throw err;
      const status = err.kind === "not_found" ? 404 : err.kind === "conflict" ? 409 : 400;
      throw new StateApiError(status, err.message, { ...(err.param !== undefined && { param: err.param }) });
    }
  });
}

function idOf(request: FastifyRequest): string {
  return String((request.params as { id?: unknown }).id ?? "");
}

function noSuchBatch(id: string): StateApiError {
  return new StateApiError(404, `No batch found with id '${id.slice(0, 200)}'.`, { param: "batch_id" });
}

function requiredString(value: unknown, param: string): string {
  if (value === undefined || value === null)
    throw invalidParam(param, `Missing required parameter: '${param}'.`, "missing_required_parameter");
  if (typeof value !== "string") {
    throw invalidParam(
      param,
      `Invalid type for '${param}': expected a string, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  return value;
}

/** `output_expires_after`: `{anchor: "created_at", seconds}`, 3600..2592000, as seconds. */
function parseOutputExpiresAfter(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalidParam(
      "output_expires_after",
      `Invalid type for 'output_expires_after': expected an object, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  const { anchor, seconds } = value as Record<string, unknown>;
  if (anchor !== "created_at") {
    throw invalidParam(
      "output_expires_after.anchor",
      "Invalid value for 'output_expires_after.anchor'. Supported values are: 'created_at'.",
    );
  }
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < MIN_OUTPUT_EXPIRY || seconds > MAX_OUTPUT_EXPIRY) {
    throw invalidParam(
      "output_expires_after.seconds",
      `Invalid 'output_expires_after.seconds': expected an integer between ${MIN_OUTPUT_EXPIRY} and ${MAX_OUTPUT_EXPIRY}.`,
    );
  }
  return seconds;
}
