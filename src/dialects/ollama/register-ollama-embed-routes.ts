import type { Gateway, NativeEmbedRequest } from "../../core/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, metaHeaders, parseBody, requestRecord } from "../shared/index.js";
import { normalizeOllamaEmbedding } from "./normalize-ollama-embedding.js";
import { requiredModel, withOllamaModelErrors } from "./ollama-model-errors.js";
import { ollamaEmbeddingsRequestSchema, ollamaEmbedRequestSchema } from "./ollama-server-api.js";
import { parseOllamaEmbedInput } from "./parse-ollama-embed-input.js";
import { keepAliveField, parseOllamaKeepAlive } from "./parse-ollama-keep-alive.js";

/** POST /api/embed and the legacy POST /api/embeddings. */
export function registerOllamaEmbedRoutes(scope: RouteTable, gateway: Gateway): void {
  scope.post("/api/embed", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const parsed = parseBody(ollamaEmbedRequestSchema, request.body);
    const body = { ...parsed, model: requiredModel(parsed.model) };
    record.model = body.model;
    const input = parseOllamaEmbedInput(body.input);
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    if (input.length === 0) {
      // Ollama answers no input (missing, null, "" or []) with no vectors, after loading the model.
      const { entry } = await withOllamaModelErrors(body.model, "try-pulling", () =>
        gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply)),
      );
      return { model: entry.name, embeddings: [] };
    }
    const { meta, result } = await withOllamaModelErrors(body.model, "try-pulling", () =>
      gateway.embed(
        {
          model: body.model,
          input,
          ...(body.dimensions ? { dimensions: body.dimensions } : {}),
          // Ollama truncates unless told not to.
          truncate: body.truncate ?? true,
          ...keepAliveField(keepAliveMs),
          ...clientOptions(request.body),
          native: nativeEmbedRequest("ollama-embed", request.body, record.bodyText),
        },
        { signal: clientSignal(request, reply), headers: request.headers },
      ),
    );
    record.meta = meta;
    reply.headers(metaHeaders(meta));
    // An Ollama upstream's own answer, as it sent it: its vectors (scaled by it), its durations.
    if (result.native) return { ...result.native, model: meta.target };
    return {
      model: meta.target,
      embeddings: result.embeddings.map((vector) => normalizeOllamaEmbedding(vector, body.dimensions ?? undefined)),
      total_duration: Math.max(1, Math.round((performance.now() - record.startedAt) * 1e6)),
      load_duration: 0,
      prompt_eval_count: result.usage.inputTokens,
    };
  });

  scope.post("/api/embeddings", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const parsed = parseBody(ollamaEmbeddingsRequestSchema, request.body);
    const body = { ...parsed, model: requiredModel(parsed.model) };
    record.model = body.model;
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    const prompt = body.prompt;
    if (!prompt) {
      await withOllamaModelErrors(body.model, "try-pulling", () =>
        gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply)),
      );
      return { embedding: [] };
    }
    const { meta, result } = await withOllamaModelErrors(body.model, "try-pulling", () =>
      gateway.embed(
        // Ollama's legacy endpoint answers the model's vector as it is, not scaled to unit length;
        // an Ollama upstream is sent the client's own body, to its own legacy endpoint.
        {
          model: body.model,
          input: [prompt],
          raw: true,
          ...keepAliveField(keepAliveMs),
          ...clientOptions(request.body),
          native: nativeEmbedRequest("ollama-embeddings", request.body, record.bodyText),
        },
        { signal: clientSignal(request, reply), headers: request.headers },
      ),
    );
    record.meta = meta;
    reply.headers(metaHeaders(meta));
    return result.native ?? { embedding: result.embeddings[0] ?? [] };
  });
}

/** The client's own embedding body (and its text, when kept), for an Ollama upstream (EmbedRequest.native). */
function nativeEmbedRequest(wire: NativeEmbedRequest["wire"], body: unknown, text: string | undefined): NativeEmbedRequest {
  return { wire, body: body as Record<string, unknown>, ...(text !== undefined && { text }) };
}

/** `{ options }`: the client's own `options` object as it sent it (every Modelfile option), when it sent any. */
function clientOptions(body: unknown): { options?: Record<string, unknown> } {
  const options = (body as { options?: unknown } | null)?.options;
  if (typeof options !== "object" || options === null || Array.isArray(options)) return {};
  return Object.keys(options).length === 0 ? {} : { options: options as Record<string, unknown> };
}
