import type { FastifyReply, FastifyRequest } from "fastify";
import type { Gateway, Sensitivity } from "../../core/index.js";
import { errorMetaOf, errorOptionsOf, GatewayError, noteErrorMeta } from "../../core/index.js";
import { maxSensitivity } from "../../privacy/index.js";
import {
  type ChatRendering,
  clientSignal,
  type Dialect,
  type DialectServices,
  metaHeaders,
  RouteTable,
  requestRecord,
  routeToolsAnswerChoice,
  sendChat,
} from "../shared/index.js";
import { registerBatchRoutes } from "./batches/register-batch-routes.js";
import { ChatCompletionStreamRenderer } from "./chat-completion-stream-renderer.js";
import { withChoiceSeed } from "./choice-seed.js";
import { ChoicesFanOut, fanOutChoices } from "./choices-fan-out.js";
import { completionChoiceFormat } from "./completion-choices.js";
import { resolveChatFiles, withChatFilesInline } from "./files/chat-files.js";
import { FileResolver } from "./files/file-resolver.js";
import { registerFileRoutes } from "./files/register-file-routes.js";
import { nativeOpenAIChatCompletion, nativeOpenAIChatRequest, OpenAIChatNativeStream } from "./native-openai-chat.js";
import { parseChatCompletionRequest } from "./parse-chat-completion-request.js";
import { forPrompt, parseCompletionRequest } from "./parse-completion-request.js";
import { parseEmbeddingRequest } from "./parse-embedding-request.js";
import { registerStoredStateRoutes } from "./register-stored-state-routes.js";
import { renderChatCompletion } from "./render-chat-completion.js";
import { CompletionStreamRenderer, renderCompletion } from "./render-completion.js";
import { renderEmbeddings } from "./render-embeddings.js";
import { renderOpenAIError } from "./render-openai-error.js";
import { renderOpenAIModel, renderOpenAIModelList } from "./render-openai-models.js";
import { BackgroundResponses, registerResponsesRoutes } from "./responses/index.js";
import { ConversationTurns, ResponsesInFlight, stateSensitivity } from "./state/index.js";
import { registerStoredChatRoutes, storedChatMetadata, storedChatRendering } from "./stored-chat/index.js";
import { registerVectorStoreRoutes } from "./vector-stores/register-vector-store-routes.js";

/**
 * The OpenAI API: models, chat completions, legacy completions, embeddings and responses under /v1.
 * GET /v1/models is shared with the Anthropic dialect, which answers the clients that send anthropic-version.
 */
export const openaiDialect: Dialect = {
  name: "openai",

  // Every /v1 path no other dialect claims (the registry asks the others first).
  speaks: (request) => request.url.startsWith("/v1/"),

  routes(gateway: Gateway, services: DialectServices) {
    const app = new RouteTable();
    app.get("/v1/models", async () => renderOpenAIModelList(await gateway.models()));
    app.get("/v1/models/*", async (request) =>
      renderOpenAIModel(await gateway.model(decodeURIComponent((request.params as { "*": string })["*"]))),
    );

    app.post("/v1/chat/completions", async (request, reply) => {
      requestRecord(request).dialect = "openai";
      // Files the body names (tandem's by file_id, or bytes inline), given so that any target reads them.
      const files = new FileResolver(services.files, clientSignal(request, reply));
      resolveChatFiles(request.body, files);
      await files.settle();
      const body = withChatFilesInline(request.body, files);
      const { chat, includeUsage, ...parsed } = parseChatCompletionRequest(
        body,
        files,
        await routeToolsAnswerChoice(gateway, body),
      );
      // A stored file uploaded with a declared level makes the request at least that sensitive, and
      // one uploaded as private cannot be redacted (ChatRequest.declaredPrivate).
      const { headers, floor } = stateSensitivity(request.headers, files.declaredSensitivity());
      if (floor !== undefined) chat.sensitivityFloor = floor;
      const declaredPrivate = files.declaredPrivate();
      if (declaredPrivate !== undefined) chat.declaredPrivate = declaredPrivate;
      // The body's text goes with it while no file was put inline into it.
      chat.native = nativeOpenAIChatRequest(
        body,
        request.headers,
        parsed,
        body === request.body ? requestRecord(request).bodyText : undefined,
        chat.messages,
      );
      // The client's `logprobs: true` (ChatRequest.logprobs): only then are tokens rendered, whatever the target reports.
      const logprobs = chat.logprobs !== undefined;
      // The renderer goes on after a mid-stream switch from the target's own chunks, with their id.
      let renderer: ChatCompletionStreamRenderer | undefined;
      // Custom tools' calls as custom tool calls, a legacy request's one call as its function_call.
      const calls = { custom: parsed.custom, legacyFunctions: parsed.legacyFunctions };
      const rendering: ChatRendering = {
        stream: (meta) => {
          renderer = new ChatCompletionStreamRenderer(meta.target, includeUsage, logprobs, { ...calls, answer: meta });
          return renderer;
        },
        json: (result, meta) => renderChatCompletion(result, meta, logprobs, calls),
        native: {
          stream: (meta) => new OpenAIChatNativeStream(meta, includeUsage, renderer),
          json: nativeOpenAIChatCompletion,
        },
      };
      // `store: true`: the answer is kept (one property check for every other request).
      const raw = request.body as Record<string, unknown>;
      await sendChat(
        request,
        reply,
        // Several choices: on the client's wire as it sent them, else fanned out, one request each.
        parsed.choices > 1 ? new ChoicesFanOut(gateway, parsed.choices, { logprobs, includeUsage, calls }) : gateway,
        chat,
        raw.store === true && services.chatCompletions
          ? storedChatRendering(rendering, services.chatCompletions, raw, storedChatMetadata(raw))
          : rendering,
        headers,
      );
    });
    // Stored chat completions: list, retrieve, update, delete, messages.
    if (services.chatCompletions) registerStoredChatRoutes(app, services.chatCompletions);

    // Stored responses (GET/DELETE /v1/responses/{id}, cancel, input_items) and the Conversations API.
    // Background responses run their turns through the server (its loopback), when it has one.
    const background = services.loopback === undefined ? undefined : new BackgroundResponses(services.loopback, services.state);
    // One turn at a time per conversation, and no items added or deleted under a turn (ConversationTurns).
    const turns = new ConversationTurns();
    // The responses being answered, which a DELETE of their id reaches before they are kept.
    const inFlight = new ResponsesInFlight();
    registerStoredStateRoutes(app, services.state, background, turns, inFlight);
    // The Files API (upload, list, retrieve, content, delete).
    if (services.files) registerFileRoutes(app, services.files, services.vectorStores);
    // The Vector Stores API (stores, their files, search).
    if (services.vectorStores) registerVectorStoreRoutes(app, services.vectorStores);
    // The Batch API (create from a file, list, retrieve, cancel): each line through this server.
    if (services.batches) registerBatchRoutes(app, services.batches);

    app.post("/v1/completions", async (request, reply) => {
      requestRecord(request).dialect = "openai";
      const parsed = await parseCompletionRequest(request.body);
      await namingParam("prompt", () => sendCompletions(request, reply, parsed));
    });

    const sendCompletions = async (
      request: FastifyRequest,
      reply: FastifyReply,
      parsed: Awaited<ReturnType<typeof parseCompletionRequest>>,
    ): Promise<void> => {
      const { chat, includeUsage, prompts, echo } = parsed;
      if (prompts.length === 1 && parsed.bestOf === 1) {
        const prompt = prompts[0] as string;
        // The client's `logprobs: N`: the tokens' offsets count from the end of the prompt.
        const logprobs = parsed.logprobs ? { prompt } : undefined;
        // `echo`: the prompt goes before the answer.
        const echoed = echo ? prompt : undefined;
        await sendChat(request, reply, gateway, chat, {
          stream: (meta) => new CompletionStreamRenderer(meta.target, includeUsage, logprobs, echoed),
          json: (result, meta) => renderCompletion(result, meta, logprobs, echoed),
        });
        return;
      }
      // Several prompts, n or best_of: a request per candidate, put together as one answer.
      const floor = strictestPrompt(prompts, services.classifyText);
      const requests = parsed.completions.flatMap((completion) => {
        const one = forPrompt(chat, completion);
        if (floor !== undefined) one.sensitivityFloor = floor;
        // Each candidate of a prompt a request of its own, with a seed of its own when one was given.
        return Array.from({ length: parsed.bestOf }, (_, index) => withChoiceSeed(one, index));
      });
      const format = completionChoiceFormat({ ...parsed, includeUsage });
      await sendChat(request, reply, { chat: (_first, context) => fanOutChoices(gateway, requests, context, format) }, chat, {
        stream: (meta) => new CompletionStreamRenderer(meta.target, includeUsage),
        json: (result, meta) => renderCompletion(result, meta),
        native: { stream: (meta) => new OpenAIChatNativeStream(meta, includeUsage), json: nativeOpenAIChatCompletion },
      });
    };

    app.post("/v1/embeddings", async (request, reply) => {
      const record = requestRecord(request);
      record.dialect = "openai";
      const { embed, encodingFormat } = await parseEmbeddingRequest(request.body);
      record.model = embed.model;
      const { meta, result } = await namingParam("input", () =>
        gateway.embed(embed, { signal: clientSignal(request, reply), headers: request.headers }),
      );
      record.meta = meta;
      return reply
        .code(200)
        .headers(metaHeaders(meta))
        .send(renderEmbeddings(result, meta, encodingFormat));
    });

    registerResponsesRoutes(app, gateway, services, background, turns, inFlight);
    return app.routes;
  },

  // OpenAI's request id header: the SDKs give it as a result's `_request_id` and an error's `requestID`.
  requestIdHeader: "x-request-id",

  renderError: renderOpenAIError,
};

/**
 * The most sensitive of several prompts, which each prompt's request is then at least (a batch goes
 * where its strictest prompt may, not part to the cloud and part kept here); undefined when every
 * prompt is public or there is one prompt (the router classifies it).
 */
function strictestPrompt(prompts: readonly string[], classify: DialectServices["classifyText"]): Sensitivity | undefined {
  if (prompts.length < 2 || classify === undefined) return undefined;
  let level: Sensitivity = "public";
  for (const prompt of prompts) level = maxSensitivity(level, classify(prompt));
  return level === "public" ? undefined : level;
}

/**
 * A window error names `messages` where the endpoint has none: on legacy completions the `prompt`, on
 * embeddings the `input` (the renderer names `messages` for an error that names no field).
 */
async function namingParam<T>(param: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== "context_length_exceeded") throw err;
    if (err.param !== undefined && err.param !== "messages") throw err;
    const named = new GatewayError(err.code, err.message, { ...errorOptionsOf(err), param, cause: err });
    const meta = errorMetaOf(err);
    throw meta === undefined ? named : noteErrorMeta(named, meta);
  }
}
