import { type ChatRequest, type Gateway, GatewayError, writtenMessageValues } from "../../core/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, parseBody, requestRecord, sendChat } from "../shared/index.js";
import { nativeOllamaAnswer, nativeOllamaRequest, OllamaNativeStream } from "./native-ollama.js";
import { requiredModel, withOllamaModelErrors } from "./ollama-model-errors.js";
import { ollamaChatRequestSchema, ollamaGenerateRequestSchema } from "./ollama-server-api.js";
import { type OllamaAnswerOptions, OllamaStreamRenderer } from "./ollama-stream-renderer.js";
import { parseOllamaChatRequest } from "./parse-ollama-chat-request.js";
import { parseOllamaGenerateRequest } from "./parse-ollama-generate-request.js";
import { keepAliveField, parseOllamaKeepAlive } from "./parse-ollama-keep-alive.js";
import { type OllamaThink, parseOllamaThink } from "./parse-ollama-think.js";
import { renderOllamaChatResponse, renderOllamaGenerateResponse, renderOllamaLoadResponse } from "./render-ollama-response.js";

/** POST /api/chat and POST /api/generate. */
export function registerOllamaChatRoutes(scope: RouteTable, gateway: Gateway): void {
  scope.post("/api/chat", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const parsed = parseBody(ollamaChatRequestSchema, request.body);
    const body = { ...parsed, model: requiredModel(parsed.model), think: parseOllamaThink(parsed.think) };
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    if (!body.messages?.length) {
      // Ollama's load (or, with keep_alive 0, unload) request: a local model is loaded, an Ollama
      // upstream is sent the request itself (and loads or unloads), any other remote one only resolved.
      const native = nativeOllamaRequest(request.body, "ollama-chat", record.bodyText);
      const kept = await withOllamaModelErrors(body.model, "not-found", () =>
        gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply), native),
      );
      return reply.send(
        kept.answer
          ? { ...kept.answer, model: kept.entry.name }
          : renderOllamaLoadResponse(kept.entry.name, "chat", keepAliveMs === 0),
      );
    }
    const chat = parseOllamaChatRequest(body, writtenMessageValues(record.bodyText));
    const options = answerOptions(chat);
    await withOllamaModelErrors(body.model, "not-found", async () => {
      await checkThinks(gateway, body.model, body.think);
      await sendChat(
        request,
        reply,
        gateway,
        {
          ...chat,
          ...keepAliveField(keepAliveMs),
          ...shownReasoning(options),
          native: nativeOllamaRequest(request.body, "ollama-chat", record.bodyText),
        },
        {
          stream: (meta) => new OllamaStreamRenderer("chat", meta, record, options),
          json: (result, meta) => renderOllamaChatResponse(result, meta, record, options),
          native: { stream: (meta) => new OllamaNativeStream(meta), json: nativeOllamaAnswer },
        },
      );
    });
  });

  scope.post("/api/generate", async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const parsed = parseBody(ollamaGenerateRequestSchema, request.body);
    const body = { ...parsed, model: requiredModel(parsed.model), think: parseOllamaThink(parsed.think) };
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    if (!body.prompt && !body.images?.length) {
      // As /api/chat's: `ollama stop` sends this with keep_alive 0, clients preload with it.
      const native = nativeOllamaRequest(request.body, "ollama-generate", record.bodyText);
      const kept = await withOllamaModelErrors(body.model, "not-found", () =>
        gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply), native),
      );
      return reply.send(
        kept.answer
          ? { ...kept.answer, model: kept.entry.name }
          : renderOllamaLoadResponse(kept.entry.name, "generate", keepAliveMs === 0),
      );
    }
    const chat = parseOllamaGenerateRequest(body);
    const options = answerOptions(chat);
    await withOllamaModelErrors(body.model, "not-found", async () => {
      await checkThinks(gateway, body.model, body.think);
      await sendChat(
        request,
        reply,
        gateway,
        {
          ...chat,
          ...keepAliveField(keepAliveMs),
          ...shownReasoning(options),
          native: nativeOllamaRequest(request.body, "ollama-generate", record.bodyText),
        },
        {
          stream: (meta) => new OllamaStreamRenderer("generate", meta, record, options),
          json: (result, meta) => renderOllamaGenerateResponse(result, meta, record, options),
          native: { stream: (meta) => new OllamaNativeStream(meta), json: nativeOllamaAnswer },
        },
      );
    });
  });
}

/**
 * Ollama's 400 for `think` (true or a level) asked of a model that cannot think (routes.go: `"x" does
 * not support thinking`): here a local model whose chat template has no thinking mode. A remote
 * model's upstream, or a route's targets, decide for themselves; only a request that asks to think
 * looks the model up.
 */
async function checkThinks(gateway: Gateway, model: string, think: OllamaThink | undefined): Promise<void> {
  if (think === undefined || think === false) return;
  const entry = await gateway.model(model);
  if (entry.engineModel === true && entry.file?.thinks === false) {
    throw new GatewayError("invalid_request", `${JSON.stringify(model)} does not support thinking`, { param: "think" });
  }
}

/**
 * What the answer shows, as Ollama does: the model's reasoning unless the client said `think: false`
 * (Ollama turns thinking on for a thinking model when `think` is unset, and answers its thoughts as
 * `thinking`; a model that does not think has none to show), token logprobs only to a client that
 * asked `logprobs: true`.
 */
/** Reasoning the client is not shown (`think: false`) is no start of the answer for it (see ChatRequest.reasoningShown). */
function shownReasoning(options: OllamaAnswerOptions): Pick<ChatRequest, "reasoningShown"> {
  return options.think === false ? { reasoningShown: false } : {};
}

function answerOptions(chat: ChatRequest): OllamaAnswerOptions {
  return { think: chat.reasoning?.enabled !== false, logprobs: chat.logprobs !== undefined };
}
