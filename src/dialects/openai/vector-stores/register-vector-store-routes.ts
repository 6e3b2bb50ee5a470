import type { FastifyReply } from "fastify";
import type {
  PagingOptions,
  VectorStoreFileListOptions,
  VectorStoreFileStatus,
  VectorStores,
} from "../../../core/vector-stores.js";
import { VectorStoreError } from "../../../core/vector-stores.js";
import { clientSignal, type RouteTable } from "../../shared/index.js";
import {
  cursorChecked,
  invalidParam,
  parseMetadata,
  parsePaging,
  refuseUnknownFields,
  renderList,
  StateApiError,
  single,
  stateRoute,
  stateSensitivity,
  typeOf,
} from "../state/index.js";
import {
  parseAttributeFilter,
  parseAttributes,
  parseChunkingStrategy,
  parseInteger,
  parseObject,
  parseRankingOptions,
  parseString,
} from "./parse-vector-store-fields.js";
import { renderFileBatch, renderSearchResult, renderVectorStore, renderVectorStoreFile } from "./render-vector-store.js";

const PAGING = { defaultLimit: 20, maxLimit: 100 };
const MAX_NAME = 256;
const MAX_DESCRIPTION = 512;
const FILE_STATUSES = new Set<VectorStoreFileStatus>(["in_progress", "completed", "failed", "cancelled"]);

/**
 * OpenAI's Vector Stores API over tandem's vector stores (harness/vector-stores/): stores, their
 * files (each a Files API file, ingested in the background), a file's parsed content, search, and
 * file batches (files added at once, followed and cancelled together).
 */
export function registerVectorStoreRoutes(app: RouteTable, stores: VectorStores): void {
  app.post(
    "/v1/vector_stores",
    route(async (request) => {
      const body = parseObject(request.body ?? {}, "body");
      refuseUnknownFields(body, ["name", "description", "file_ids", "chunking_strategy", "expires_after", "metadata"]);
      const fileIds = body.file_ids === undefined ? [] : parseFileIds(body.file_ids);
      const chunking = parseChunkingStrategy(body.chunking_strategy);
      const days = parseExpiresAfter(body.expires_after);
      const metadata = parseMetadata(body.metadata);
      const description =
        body.description === undefined || body.description === null
          ? undefined
          : parseString(body.description, "description", MAX_DESCRIPTION);
      const store = await stores.create({
        name: body.name === undefined || body.name === null ? "" : parseString(body.name, "name", MAX_NAME),
        fileIds,
        ...(chunking && { chunking }),
        ...(days !== undefined && days !== null && { expiresAfterDays: days }),
        ...(Object.keys(metadata).length > 0 && { metadata }),
        ...(description !== undefined && { description }),
      });
      return renderVectorStore(store, stores.now());
    }),
  );

  app.get(
    "/v1/vector_stores",
    route(async (request) => {
      const options = parseStorePaging(request.query);
      const page = cursorChecked(await stores.list(options), options, "Vector store");
      return renderList(
        page.data.map((s) => renderVectorStore(s, stores.now())),
        page.hasMore,
      );
    }),
  );

  app.get(
    "/v1/vector_stores/:vs",
    route(async (request) => renderVectorStore(await storeOf(stores, vsOf(request.params)), stores.now())),
  );

  app.post(
    "/v1/vector_stores/:vs",
    route(async (request) => {
      const id = vsOf(request.params);
      const body = parseObject(request.body ?? {}, "body");
      refuseUnknownFields(body, ["name", "expires_after", "metadata"]);
      const days = parseExpiresAfter(body.expires_after);
      const updated = await stores.update(id, {
        ...(body.name !== undefined && { name: body.name === null ? null : parseString(body.name, "name", MAX_NAME) }),
        ...(body.metadata !== undefined && { metadata: body.metadata === null ? null : parseMetadata(body.metadata) }),
        ...(days !== undefined && { expiresAfterDays: days }),
      });
      if (!updated) throw noSuchStore(id);
      return renderVectorStore(updated, stores.now());
    }),
  );

  app.delete(
    "/v1/vector_stores/:vs",
    route(async (request) => {
      const id = vsOf(request.params);
      if (!(await stores.delete(id))) throw noSuchStore(id);
      return { id, object: "vector_store.deleted", deleted: true };
    }),
  );

  app.post(
    "/v1/vector_stores/:vs/search",
    route(async (request, reply) => {
      const id = vsOf(request.params);
      await storeOf(stores, id);
      const body = parseObject(request.body ?? {}, "body");
      // A misspelt field (`max_results` for `max_num_results`) would otherwise be dropped and the
      // search answered with its default, as OpenAI refuses it instead.
      refuseUnknownFields(body, ["query", "max_num_results", "filters", "ranking_options", "rewrite_query"]);
      const queries = parseQueries(body.query, stores.maxQueryChars);
      const limit = body.max_num_results === undefined ? 10 : parseInteger(body.max_num_results, "max_num_results", 1, 50);
      const scoreThreshold = parseRankingOptions(body.ranking_options);
      const filter = body.filters === undefined || body.filters === null ? undefined : parseAttributeFilter(body.filters);
      if (body.rewrite_query !== undefined && typeof body.rewrite_query !== "boolean") {
        throw invalidParam(
          "rewrite_query",
          `Invalid type for 'rewrite_query': expected a boolean, but got ${typeOf(body.rewrite_query)} instead.`,
          "invalid_type",
        );
      }
      // tandem does not rewrite queries (that takes a model): the query is searched as given
      // (`search_query` shows it), and the answer says so.
      if (body.rewrite_query === true) {
        reply.header("x-tandem-warnings", "rewrite_query was not applied: tandem searches the query as given");
      }
      // A query the client declared private is not embedded by a cloud model.
      const { level } = stateSensitivity(request.headers, undefined);
      const hits = await stores.search(
        { vectorStoreIds: [id], queries, limit, scoreThreshold, ...(filter && { filter }), ...(level && { sensitivity: level }) },
        clientSignal(request, reply),
      );
      return {
        object: "vector_store.search_results.page",
        search_query: queries,
        data: hits.map(renderSearchResult),
        has_more: false,
        next_page: null,
      };
    }),
  );

  app.post(
    "/v1/vector_stores/:vs/files",
    route(async (request) => {
      const id = vsOf(request.params);
      const body = parseObject(request.body ?? {}, "body");
      refuseUnknownFields(body, ["file_id", "attributes", "chunking_strategy"]);
      const fileId = parseString(body.file_id, "file_id", 200);
      const chunking = parseChunkingStrategy(body.chunking_strategy);
      const attributes = body.attributes === undefined ? null : parseAttributes(body.attributes);
      const file = await stores.addFile(id, {
        fileId,
        ...(chunking && { chunking }),
        ...(attributes !== null && Object.keys(attributes).length > 0 && { attributes }),
      });
      if (!file) throw noSuchStore(id);
      return renderVectorStoreFile(file);
    }),
  );

  app.get(
    "/v1/vector_stores/:vs/files",
    route(async (request) => {
      const id = vsOf(request.params);
      const options = parseFileListQuery(request.query);
      const page = await stores.listFiles(id, options);
      if (!page) throw noSuchStore(id);
      const { data, hasMore } = cursorChecked(page, options, "Vector store file");
      return renderList(data.map(renderVectorStoreFile), hasMore);
    }),
  );

  app.post(
    "/v1/vector_stores/:vs/file_batches",
    route(async (request) => {
      const id = vsOf(request.params);
      const body = parseObject(request.body ?? {}, "body");
      refuseUnknownFields(body, ["file_ids", "files", "attributes", "chunking_strategy"]);
      const batch = await stores.createBatch(id, parseBatchFiles(body));
      if (!batch) throw noSuchStore(id);
      return renderFileBatch(batch);
    }),
  );

  app.get(
    "/v1/vector_stores/:vs/file_batches/:batch",
    route(async (request, reply) => {
      const { vs, batch } = batchIdsOf(request.params);
      const found = await stores.getBatch(vs, batch);
      if (!found) throw await noSuchBatch(stores, vs, batch);
      return pollAfter(reply, renderFileBatch(found));
    }),
  );

  app.post(
    "/v1/vector_stores/:vs/file_batches/:batch/cancel",
    route(async (request) => {
      const { vs, batch } = batchIdsOf(request.params);
      const cancelled = await stores.cancelBatch(vs, batch);
      if (!cancelled) throw await noSuchBatch(stores, vs, batch);
      return renderFileBatch(cancelled);
    }),
  );

  app.get(
    "/v1/vector_stores/:vs/file_batches/:batch/files",
    route(async (request) => {
      const { vs, batch } = batchIdsOf(request.params);
      if (!(await stores.getBatch(vs, batch))) throw await noSuchBatch(stores, vs, batch);
      const options = { ...parseFileListQuery(request.query), batchId: batch };
      const page = await stores.listFiles(vs, options);
      if (!page) throw noSuchStore(vs);
      const { data, hasMore } = cursorChecked(page, options, "Vector store file");
      return renderList(data.map(renderVectorStoreFile), hasMore);
    }),
  );

  app.get(
    "/v1/vector_stores/:vs/files/:file",
    route(async (request, reply) => {
      const { vs, file } = idsOf(request.params);
      const found = await stores.getFile(vs, file);
      if (!found) throw await noSuchFile(stores, vs, file);
      return pollAfter(reply, renderVectorStoreFile(found));
    }),
  );

  app.post(
    "/v1/vector_stores/:vs/files/:file",
    route(async (request) => {
      const { vs, file } = idsOf(request.params);
      const body = parseObject(request.body ?? {}, "body");
      refuseUnknownFields(body, ["attributes"]);
      if (!("attributes" in body))
        throw invalidParam("attributes", "Missing required parameter: 'attributes'.", "missing_required_parameter");
      const updated = await stores.setAttributes(vs, file, parseAttributes(body.attributes));
      if (!updated) throw await noSuchFile(stores, vs, file);
      return renderVectorStoreFile(updated);
    }),
  );

  app.delete(
    "/v1/vector_stores/:vs/files/:file",
    route(async (request) => {
      const { vs, file } = idsOf(request.params);
      if (!(await stores.removeFile(vs, file))) throw await noSuchFile(stores, vs, file);
      return { id: file, object: "vector_store.file.deleted", deleted: true };
    }),
  );

  app.get(
    "/v1/vector_stores/:vs/files/:file/content",
    route(async (request) => {
      const { vs, file } = idsOf(request.params);
      const chunks = await stores.fileChunks(vs, file);
      if (!chunks) throw await noSuchFile(stores, vs, file);
      return {
        object: "vector_store.file_content.page",
        data: chunks.map((text) => ({ type: "text", text })),
        has_more: false,
        next_page: null,
      };
    }),
  );
}

/**
 * How soon a client polling a file or batch still in progress should ask again. The official SDKs'
 * pollers (`createAndPoll`, `uploadAndPoll`) wait what OpenAI's `openai-poll-after-ms` header says,
 * else 5 s (openai-node) or 1 s (openai-python): a file here is ingested in well under a second.
 */
const POLL_AFTER_MS = "200";

/** `answer`, with `openai-poll-after-ms` while it is in progress. */
function pollAfter<T extends { status: string }>(reply: FastifyReply, answer: T): T {
  if (answer.status === "in_progress") reply.header("openai-poll-after-ms", POLL_AFTER_MS);
  return answer;
}

/** stateRoute, with the library's refusals in OpenAI's shape. */
function route(handler: Parameters<typeof stateRoute>[0]): ReturnType<typeof stateRoute> {
  return stateRoute(async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (err) {
      if (err instanceof VectorStoreError) {
        throw new StateApiError(err.kind === "not_found" ? 404 : 400, err.message, {
          ...(err.param !== undefined && { param: err.param }),
          ...(err.kind === "invalid" && { code: "invalid_value" }),
        });
      }
      throw err;
    }
  });
}

/**
 * `after`, `before`, `limit` and `order` of the Vector Stores API's lists: `before` asks for the
 * previous page (the `limit` items just before it); with `after` too, the page lies between them.
 */
function parseStorePaging(query: unknown): PagingOptions {
  const before = single((query as Record<string, unknown> | undefined)?.before, "before");
  return { ...parsePaging(query, PAGING), ...(before !== undefined && before !== "" && { before }) };
}

/** A file list's query: paging, and `filter` by status. */
function parseFileListQuery(query: unknown): VectorStoreFileListOptions {
  const paging = parseStorePaging(query);
  const filter = (query as Record<string, unknown> | undefined)?.filter;
  if (filter !== undefined && (typeof filter !== "string" || !FILE_STATUSES.has(filter as VectorStoreFileStatus))) {
    throw invalidParam(
      "filter",
      `Invalid value: '${String(filter).slice(0, 100)}'. Supported values are: 'in_progress', 'completed', 'failed' and 'cancelled'.`,
    );
  }
  return { ...paging, ...(filter !== undefined && { status: filter as VectorStoreFileStatus }) };
}

/**
 * A batch's files: `file_ids` (with the batch's `attributes` and `chunking_strategy`), or `files`
 * (each with its own), not both; at least one.
 */
function parseBatchFiles(body: Record<string, unknown>) {
  if (body.file_ids !== undefined && body.files !== undefined) {
    throw invalidParam(
      "files",
      "Mutually exclusive parameters: provide either 'file_ids' or 'files', not both.",
      "mutually_exclusive_parameters",
    );
  }
  if (body.files !== undefined) {
    if (!Array.isArray(body.files) || body.files.length === 0) {
      throw invalidParam(
        "files",
        `Invalid type for 'files': expected a non-empty array, but got ${typeOf(body.files)} instead.`,
        "invalid_type",
      );
    }
    return body.files.map((raw, i) => {
      const file = parseObject(raw, `files[${i}]`);
      refuseUnknownFields(file, ["file_id", "attributes", "chunking_strategy"], `files[${i}].`);
      const chunking = parseChunkingStrategy(file.chunking_strategy, `files[${i}].chunking_strategy`);
      const attributes = file.attributes == null ? null : parseAttributes(file.attributes, `files[${i}].attributes`);
      return {
        fileId: parseString(file.file_id, `files[${i}].file_id`, 200),
        ...(chunking && { chunking }),
        ...(attributes !== null && Object.keys(attributes).length > 0 && { attributes }),
      };
    });
  }
  const ids = body.file_ids === undefined ? [] : parseFileIds(body.file_ids);
  if (ids.length === 0)
    throw invalidParam("file_ids", "Missing required parameter: 'file_ids' (or 'files').", "missing_required_parameter");
  const chunking = parseChunkingStrategy(body.chunking_strategy);
  const attributes = body.attributes == null ? null : parseAttributes(body.attributes);
  return ids.map((fileId) => ({
    fileId,
    ...(chunking && { chunking }),
    ...(attributes !== null && Object.keys(attributes).length > 0 && { attributes }),
  }));
}

async function noSuchBatch(stores: VectorStores, vs: string, batch: string): Promise<StateApiError> {
  if (!(await stores.get(vs))) return noSuchStore(vs);
  return new StateApiError(404, `No file batch found with id '${batch.slice(0, 200)}' in vector store '${vs.slice(0, 200)}'.`, {
    param: "batch_id",
  });
}

function batchIdsOf(params: unknown): { vs: string; batch: string } {
  return params as { vs: string; batch: string };
}

function parseFileIds(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw invalidParam(
      "file_ids",
      `Invalid type for 'file_ids': expected an array, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  return value.map((id, i) => parseString(id, `file_ids[${i}]`, 200));
}

/** `expires_after`: `{anchor: "last_active_at", days: 1..365}`; null clears it (on update); undefined: unchanged. */
function parseExpiresAfter(value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const o = parseObject(value, "expires_after");
  if (o.anchor !== "last_active_at") {
    throw invalidParam(
      "expires_after.anchor",
      `Invalid value: '${String(o.anchor).slice(0, 100)}'. Supported values are: 'last_active_at'.`,
    );
  }
  return parseInteger(o.days, "expires_after.days", 1, 365);
}

/** `query`: a string or an array of strings (each non-empty, within the bound). */
function parseQueries(value: unknown, maxChars: number): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > 10) {
    throw invalidParam("query", "Invalid 'query': expected a string or an array of 1 to 10 strings.");
  }
  return list.map((q, i) => {
    const param = Array.isArray(value) ? `query[${i}]` : "query";
    const text = parseString(q, param, maxChars);
    if (text.trim().length === 0) throw invalidParam(param, `Invalid '${param}': empty string.`, "empty_string");
    return text;
  });
}

async function storeOf(stores: VectorStores, id: string) {
  const store = await stores.get(id);
  if (!store) throw noSuchStore(id);
  return store;
}

function noSuchStore(id: string): StateApiError {
  return new StateApiError(404, `No vector store found with id '${id.slice(0, 200)}'.`, { param: "vector_store_id" });
}

async function noSuchFile(stores: VectorStores, vs: string, file: string): Promise<StateApiError> {
  if (!(await stores.get(vs))) return noSuchStore(vs);
  return new StateApiError(404, `No file found with id '${file.slice(0, 200)}' in vector store '${vs.slice(0, 200)}'.`, {
    param: "file_id",
  });
}

function vsOf(params: unknown): string {
  return (params as { vs: string }).vs;
}

function idsOf(params: unknown): { vs: string; file: string } {
  return params as { vs: string; file: string };
}
