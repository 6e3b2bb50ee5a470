import type { FastifyInstance } from "fastify";
import type { Gateway } from "../../router/gateway.js";
import { requestRecord } from "../../server/request-record.js";
import { sendChat } from "../../server/respond.js";
import { parseBody } from "../shared/index.js";
import { ollamaChatRequestSchema, ollamaGenerateRequestSchema } from "./ollama-api.js";
import { OllamaStreamRenderer } from "./ollama-stream-renderer.js";
import { parseOllamaChatRequest } from "./parse-ollama-chat-request.js";
import { parseOllamaGenerateRequest } from "./parse-ollama-generate-request.js";
import { renderOllamaChatResponse, renderOllamaGenerateResponse, renderOllamaLoadResponse } from "./render-ollama-response.js";

/** POST /api/chat and POST /api/generate. */
export function registerOllamaChatRoutes(scope: FastifyInstance, gateway: Gateway): void {
  scope.post("/api/chat", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const body = parseBody(ollamaChatRequestSchema, request.body);
    if (!body.messages?.length) {
      // Ollama loads the model and answers "load"; here that is: check the name resolves.
      const entry = await gateway.model(body.model);
      return reply.send(renderOllamaLoadResponse(entry.name, "chat"));
    }
    await sendChat(request, reply, gateway, parseOllamaChatRequest(body), {
      stream: (meta) => new OllamaStreamRenderer("chat", meta, record),
      json: (result, meta) => renderOllamaChatResponse(result, meta, record),
    });
  });

  scope.post("/api/generate", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const body = parseBody(ollamaGenerateRequestSchema, request.body);
    if (!body.prompt && !body.images?.length) {
      const entry = await gateway.model(body.model);
      return reply.send(renderOllamaLoadResponse(entry.name, "generate"));
    }
    await sendChat(request, reply, gateway, parseOllamaGenerateRequest(body), {
      stream: (meta) => new OllamaStreamRenderer("generate", meta, record),
      json: (result, meta) => renderOllamaGenerateResponse(result, meta, record),
    });
  });
}
