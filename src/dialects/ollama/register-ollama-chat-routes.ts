import type { z } from "zod";
import { type ChatRequest, type Gateway, GatewayError, writtenMessageValues } from "../../core/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, parseBody, requestRecord, sendChat } from "../shared/index.js";
import { nativeOllamaAnswer, nativeOllamaRequest, OllamaNativeStream } from "./native-ollama.js";
import { requiredModel, withOllamaModelErrors } from "./ollama-model-errors.js";
import { type Checked, ollamaChatRequestSchema, ollamaGenerateRequestSchema } from "./ollama-server-api.js";
import { type OllamaAnswerOptions, OllamaStreamRenderer } from "./ollama-stream-renderer.js";
import { parseOllamaChatRequest } from "./parse-ollama-chat-request.js";
import { parseOllamaGenerateRequest } from "./parse-ollama-generate-request.js";
import { keepAliveField, parseOllamaKeepAlive } from "./parse-ollama-keep-alive.js";
import { type OllamaThink, parseOllamaThink } from "./parse-ollama-think.js";
import { renderOllamaChatResponse, renderOllamaGenerateResponse, renderOllamaLoadResponse } from "./render-ollama-response.js";

/** What both routes' bodies have, as parsed. */
type RawTurn = { model?: string | null | undefined; think?: unknown; keep_alive?: string | number | null | undefined };

/** What differs between POST /api/chat and POST /api/generate; the rest of their handling is one. */
interface OllamaTurnRoute<Raw extends RawTurn> {
  path: "/api/chat" | "/api/generate";
  kind: "chat" | "generate";
  parse(body: unknown): Raw;
  /** False for Ollama's load (or unload) request: no messages, or no prompt and no images. */
  asks(body: Checked<Raw>): boolean;
  toChat(body: Checked<Raw>, bodyText: string | undefined): ChatRequest;
  render: typeof renderOllamaChatResponse;
}

const CHAT: OllamaTurnRoute<z.output<typeof ollamaChatRequestSchema>> = {
  path: "/api/chat",
  kind: "chat",
  parse: (body) => parseBody(ollamaChatRequestSchema, body),
  asks: (body) => (body.messages?.length ?? 0) > 0,
  toChat: (body, bodyText) => parseOllamaChatRequest(body, writtenMessageValues(bodyText)),
  render: renderOllamaChatResponse,
};

const GENERATE: OllamaTurnRoute<z.output<typeof ollamaGenerateRequestSchema>> = {
  path: "/api/generate",
  kind: "generate",
  parse: (body) => parseBody(ollamaGenerateRequestSchema, body),
  asks: (body) => Boolean(body.prompt) || (body.images?.length ?? 0) > 0,
  toChat: (body) => parseOllamaGenerateRequest(body),
  render: renderOllamaGenerateResponse,
};

/** POST /api/chat and POST /api/generate. */
export function registerOllamaChatRoutes(scope: RouteTable, gateway: Gateway): void {
  registerOllamaTurnRoute(scope, gateway, CHAT);
  registerOllamaTurnRoute(scope, gateway, GENERATE);
}

function registerOllamaTurnRoute<Raw extends RawTurn>(scope: RouteTable, gateway: Gateway, route: OllamaTurnRoute<Raw>): void {
  const wire = route.kind === "chat" ? "ollama-chat" : "ollama-generate";
  scope.post(route.path, async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "ollama";
    const parsed = route.parse(request.body);
    // What Checked names: the model there, `think` valid.
    const body = { ...parsed, model: requiredModel(parsed.model), think: parseOllamaThink(parsed.think) } as Checked<Raw>;
    const keepAliveMs = parseOllamaKeepAlive(body.keep_alive);
    if (!route.asks(body)) {
      // Ollama's load (or, with keep_alive 0, unload) request (`ollama stop` sends it with keep_alive 0,
      // clients preload with it): a local model is loaded, an Ollama upstream is sent the request
      // itself (and loads or unloads), any other remote one only resolved.
      const native = nativeOllamaRequest(request.body, wire, record.bodyText);
      const kept = await withOllamaModelErrors(body.model, "not-found", () =>
        gateway.keepAlive(body.model, keepAliveMs, clientSignal(request, reply), native),
      );
      return reply.send(
        kept.answer
          ? { ...kept.answer, model: kept.entry.name }
          : renderOllamaLoadResponse(kept.entry.name, route.kind, keepAliveMs === 0),
      );
    }
    const chat = route.toChat(body, record.bodyText);
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
          native: nativeOllamaRequest(request.body, wire, record.bodyText),
        },
        {
          stream: (meta) => new OllamaStreamRenderer(route.kind, meta, record, options),
          json: (result, meta) => route.render(result, meta, record, options),
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

/** Reasoning the client is not shown (`think: false`) is no start of the answer for it (see ChatRequest.reasoningShown). */
function shownReasoning(options: OllamaAnswerOptions): Pick<ChatRequest, "reasoningShown"> {
  return options.think === false ? { reasoningShown: false } : {};
}

/**
 * What the answer shows, as Ollama does: the model's reasoning unless the client said `think: false`
 * (Ollama turns thinking on for a thinking model when `think` is unset, and answers its thoughts as
 * `thinking`; a model that does not think has none to show), token logprobs only to a client that
 * asked `logprobs: true`.
 */
function answerOptions(chat: ChatRequest): OllamaAnswerOptions {
  return { think: chat.reasoning?.enabled !== false, logprobs: chat.logprobs !== undefined };
}
