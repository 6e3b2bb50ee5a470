import type { FastifyInstance } from "fastify";
import type { Memory, Sensitivity } from "../core/index.js";
import {
  cursorChecked,
  invalidParam,
  parseListQuery,
  parseMetadata,
  refuseUnknownFields,
  StateApiError,
  stateRoute,
  typeOf,
} from "../dialects/openai/state/index.js";
import { clientSignal } from "../dialects/shared/index.js";
import type { Memories, MemoryInput } from "../harness/memory/memories.js";
import { headerSensitivity, higherSensitivity, isSensitivity } from "../privacy/index.js";

/** The longest search query, in characters (a query is a sentence, not a document). */
const MAX_QUERY_CHARS = 4000;

/** A memory as the API shows it. */
function renderMemory(memory: Memory): { id: string } & Record<string, unknown> {
  return {
    id: memory.id,
    object: "memory",
    text: memory.text,
    created_at: memory.created_at,
    updated_at: memory.updated_at,
    sensitivity: memory.sensitivity,
    metadata: memory.metadata ?? {},
  };
}

function notFound(id: string): StateApiError {
  return new StateApiError(404, `Memory with id '${id}' not found.`);
}

/**
 * tandem's memory API (no OpenAI equivalent; errors, paging and metadata in OpenAI's shapes):
 * `POST /v1/memories`, `GET /v1/memories` (a page, or with `query` the best matches),
 * `GET|PATCH|DELETE /v1/memories/{id}`. Nothing of a memory's text is logged.
 */
export function registerMemoryRoutes(app: FastifyInstance, memories: Memories): void {
  app.post(
    "/v1/memories",
    stateRoute(async (request, reply) => {
      const input = parseMemoryBody(request.body, true) as MemoryInput;
      // The request's x-tandem-sensitivity declares the memory's level too, as it does every other
      // request's: the higher of it and the body's `sensitivity`.
      const declared = higherSensitivity(input.sensitivity, headerSensitivity(request.headers));
      if (declared !== undefined) input.sensitivity = declared;
      const memory = await memories.add(input, clientSignal(request, reply));
      return reply.code(200).send(renderMemory(memory));
    }),
  );

  app.get(
    "/v1/memories",
    stateRoute(async (request, reply) => {
      const q = (request.query ?? {}) as Record<string, unknown>;
      const page = parseListQuery(q);
      if (q.query !== undefined) {
        if (typeof q.query !== "string") throw invalidParam("query", "Query parameter 'query' is given twice.");
        if (q.query.length > MAX_QUERY_CHARS) {
          throw invalidParam("query", `Invalid 'query': at most ${MAX_QUERY_CHARS} characters.`, "string_above_max_length");
        }
        const minScore = parseScore(q.min_score);
        const { hits } = await memories.search(
          q.query,
          {
            limit: page.limit,
            minScore: minScore ?? 0,
            sensitivity: headerSensitivity(request.headers),
          },
          clientSignal(request, reply),
        );
        const data = hits.map((hit) => ({ ...renderMemory(hit.memory), score: hit.score }));
        return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false };
      }
      const listed = await memories.list({
        limit: page.limit,
        order: page.order,
        ...(page.after !== undefined && { after: page.after }),
      });
      const { data, hasMore } = cursorChecked(listed, page, "Memory");
      return {
        object: "list",
        data: data.map(renderMemory),
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: hasMore,
      };
    }),
  );

  app.get(
    "/v1/memories/:id",
    stateRoute(async (request) => {
      const { id } = request.params as { id: string };
      const memory = await memories.get(id);
      if (memory === undefined) throw notFound(id);
      return renderMemory(memory);
    }),
  );

  app.patch(
    "/v1/memories/:id",
    stateRoute(async (request, reply) => {
      const { id } = request.params as { id: string };
      const change = parseMemoryBody(request.body, false);
      const memory = await memories.update(id, change, clientSignal(request, reply));
      if (memory === undefined) throw notFound(id);
      return renderMemory(memory);
    }),
  );

  app.delete(
    "/v1/memories/:id",
    stateRoute(async (request) => {
      const { id } = request.params as { id: string };
      if (!(await memories.delete(id))) throw notFound(id);
      return { id, object: "memory.deleted", deleted: true };
    }),
  );
}

/** A create (`text` required) or update body: `text`, `metadata`, `sensitivity`; anything else is refused by name. */
function parseMemoryBody(body: unknown, create: boolean): Partial<MemoryInput> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalidParam("body", `Invalid body: expected a JSON object, but got ${typeOf(body)} instead.`, "invalid_type");
  }
  const b = body as Record<string, unknown>;
  refuseUnknownFields(b, ["text", "metadata", "sensitivity"]);
  const out: Partial<MemoryInput> = {};
  if (b.text === undefined) {
    if (create) throw invalidParam("text", "Missing required parameter: 'text'.", "missing_required_parameter");
  } else if (typeof b.text !== "string") {
    throw invalidParam("text", `Invalid type for 'text': expected a string, but got ${typeOf(b.text)} instead.`, "invalid_type");
  } else if (b.text.trim() === "") {
    throw invalidParam("text", "Invalid 'text': a memory's text must not be empty.", "empty_string");
  } else {
    out.text = b.text;
  }
  if (b.metadata !== undefined) out.metadata = parseMetadata(b.metadata);
  if (b.sensitivity !== undefined) {
    if (!isSensitivity(b.sensitivity)) {
      throw invalidParam("sensitivity", "Invalid 'sensitivity': expected one of 'public', 'internal', 'private'.");
    }
    out.sensitivity = b.sensitivity as Sensitivity;
  }
  return out;
}

function parseScore(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 1)) throw invalidParam("min_score", "Invalid 'min_score': expected a number from 0 to 1.");
  return n;
}
