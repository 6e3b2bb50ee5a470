import type { Gateway } from "../../core/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, parseBody, requestRecord, sendChat } from "../shared/index.js";
import { nativeOllamaAnswer, nativeOllamaRequest, OllamaNativeStream } from "./native-ollama.js";
import { ollamaChatRequestSchema, ollamaGenerateRequestSchema } from "./ollama-server-api.js";
import { OllamaStreamRenderer } from "./ollama-stream-renderer.js";
import { parseOllamaChatRequest } from "./parse-ollama-chat-request.js";
import { parseOllamaGenerateRequest } from "./parse-ollama-generate-request.js";
import { keepAliveField, parseOllamaKeepAlive } from "./parse-ollama-keep-alive.js";
import { renderOllamaChatResponse, renderOllamaGenerateResponse, renderOllamaLoadResponse } from "./render-ollama-response.js";

/** POST /api/chat and POST /api/generate. */
export function registerOllamaChatRoutes(scope: RouteTable, gateway: Gateway): void {
  scope.post("/api/chat", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const body = parseBody(ollamaChatRequestSchema, request.body);
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    if (!body.messages?.length) {
      // Ollama's load (or, with keep_alive 0, unload) request: a local model is loaded; a remote one only resolved.
      const entry = await gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply));
      return reply.send(renderOllamaLoadResponse(entry.name, "chat", keepAliveMs === 0));
    }
    // Reasoning is shown only to a client that asked `think`, as Ollama does.
    const think = body.think != null && body.think !== false;
    await sendChat(
      request,
      reply,
      gateway,
      {
        ...parseOllamaChatRequest(body),
        ...keepAliveField(keepAliveMs),
        native: nativeOllamaRequest(request.body, "ollama-chat"),
      },
      {
        stream: (meta) => new OllamaStreamRenderer("chat", meta, record, think),
        json: (result, meta) => renderOllamaChatResponse(result, meta, record, think),
        native: { stream: (meta) => new OllamaNativeStream(meta), json: nativeOllamaAnswer },
      },
    );
  });

  scope.post("/api/generate", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const body = parseBody(ollamaGenerateRequestSchema, request.body);
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    if (!body.prompt && !body.images?.length) {
      const entry = await gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply));
      return reply.send(renderOllamaLoadResponse(entry.name, "generate", keepAliveMs === 0));
    }
    const think = body.think != null && body.think !== false;
    await sendChat(
      request,
      reply,
      gateway,
      {
        ...parseOllamaGenerateRequest(body),
        ...keepAliveField(keepAliveMs),
        native: nativeOllamaRequest(request.body, "ollama-generate"),
      },
      {
        stream: (meta) => new OllamaStreamRenderer("generate", meta, record, think),
        json: (result, meta) => renderOllamaGenerateResponse(result, meta, record, think),
        native: { stream: (meta) => new OllamaNativeStream(meta), json: nativeOllamaAnswer },
      },
    );
  });
}
