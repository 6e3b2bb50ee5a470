import type { FastifyReply, FastifyRequest } from "fastify";
import { type Gateway, GatewayError, writtenMessageValues } from "../../core/index.js";
import {
  clientSignal,
  type Dialect,
  metaHeaders,
  parseBody,
  RouteTable,
  requestRecord,
  routeToolsAnswerChoice,
  sendChat,
} from "../shared/index.js";
import { type AnthropicLeftovers, convertFromAnthropicRequest, thinkingDisplay } from "./convert-from-anthropic-messages.js";
import { withCountedBlocks } from "./counted-blocks.js";
import { withCountedMedia } from "./counted-media.js";
import { registerMessageBatchRoutes } from "./message-batches.js";
import { MessageStreamRenderer } from "./message-stream-renderer.js";
import {
  CountTokensRequestSchema,
  InterleavedMessagesRequestSchema,
  interleavedThinking,
  MessagesRequestSchema,
} from "./messages-api.js";
import { AnthropicNativeStream, nativeAnthropicMessage, nativeAnthropicRequest } from "./native-anthropic.js";
import { renderAnthropicError } from "./render-anthropic-error.js";
import { renderAnthropicModel, renderAnthropicModelList } from "./render-anthropic-models.js";
import { renderMessage } from "./render-message.js";

/** Paths only OpenAI's API has: their errors are OpenAI's whatever the headers. */
const OPENAI_ONLY_PATH = /^\/v1\/(?:chat\/completions|completions|embeddings|responses|conversations)(?:[/?]|$)/;

/**
 * The Anthropic Messages API: POST /v1/messages (JSON or SSE), POST /v1/messages/count_tokens, and
 * GET /v1/models (shared with OpenAI: Anthropic's clients are told apart by their anthropic-version header).
 */
export const anthropicDialect: Dialect = {
  name: "anthropic",

  // Anthropic's SDKs send anthropic-version on every request, including on paths shared with OpenAI;
  // on OpenAI's own paths the header (a client that sets it everywhere) does not make them Anthropic's.
  speaks: (request) =>
    request.url.startsWith("/v1/messages") ||
    (request.headers["anthropic-version"] !== undefined && !OPENAI_ONLY_PATH.test(request.url)),

  routes(gateway: Gateway, services) {
    const app = new RouteTable();
    app.get("/v1/models", async (request) => renderAnthropicModelList(await gateway.models(), request.query));
    app.get("/v1/models/*", async (request) =>
      renderAnthropicModel(await gateway.model(decodeURIComponent((request.params as { "*": string })["*"]))),
    );

    app.post("/v1/messages", async (request: FastifyRequest, reply: FastifyReply) => {
      requestRecord(request).dialect = "anthropic";
      refuseContinuedThread(request.body);
      const left: AnthropicLeftovers = { wireOnly: [], approximated: new Set() };
      const body = parseBody(
        interleavedThinking(request.headers["anthropic-beta"]) ? InterleavedMessagesRequestSchema : MessagesRequestSchema,
        request.body,
      );
      const { bodyText } = requestRecord(request);
      const routeTools = await routeToolsAnswerChoice(gateway, body);
      const chat = convertFromAnthropicRequest(body, left, routeTools, writtenMessageValues(bodyText));
      chat.native = nativeAnthropicRequest(request.body, request.headers, left, bodyText);
      const thinking = thinkingDisplay(body.thinking);
      // Reasoning it is not shown is no start of the answer for it (see ChatRequest.reasoningShown).
      if (thinking !== "shown") chat.reasoningShown = false;
      // A beta request (Claude Code's ?beta=true, the SDK's beta.messages with betas: its anthropic-beta
      // header) is answered in the Beta types' shape, which its client decodes the answer as.
      const beta =
        (request.query as { beta?: unknown } | undefined)?.beta === "true" || request.headers["anthropic-beta"] !== undefined;
      let renderer: MessageStreamRenderer | undefined;
      await sendChat(request, reply, gateway, chat, {
        stream: (meta) => {
          renderer = new MessageStreamRenderer(meta, thinking, request.id, beta);
          return renderer;
        },
        json: (result, meta) => renderMessage(result, meta, thinking, beta),
        native: {
          stream: (meta) =>
            new AnthropicNativeStream(meta, renderer ?? new MessageStreamRenderer(meta, thinking, request.id, beta)),
          json: nativeAnthropicMessage,
        },
      });
    });

    app.post("/v1/messages/count_tokens", async (request: FastifyRequest, reply: FastifyReply) => {
      requestRecord(request).dialect = "anthropic";
      const signal = clientSignal(request, reply);
      const converted = convertFromAnthropicRequest(parseBody(CountTokensRequestSchema, request.body));
      const chat = await withCountedMedia(
        withCountedBlocks(converted, request.body),
        request.body,
        services.files?.documentText,
        signal,
      );
      chat.stream = false;
      const counted = await gateway.countTokens(chat, { signal, headers: request.headers });
      await reply.code(200).headers(metaHeaders(counted.meta)).send({ input_tokens: counted.inputTokens });
    });
    // Message Batches: each request a POST /v1/messages through this server (the same runner as OpenAI's batches).
    if (services.batches) registerMessageBatchRoutes(app, services.batches);
    return app.routes;
  },

  // Anthropic's SDKs read it into `_request_id` and an error's `requestID`.
  requestIdHeader: "request-id",
  renderError: renderAnthropicError,
};

/**
 * Anthropic's server-held threads: a turn sent with `thread: {"type": "continue", "previous_message_id"}`
 * carries only its new messages, the rest being the thread's. tandem holds no threads (it routes,
 * classifies and fails over on the whole conversation), so the thread is not found, in Anthropic's
 * terms (404, `details.error_code: "thread_not_found"`): the client's SDK (its tool runner, a
 * `messages.thread`) then sends the whole conversation again, under `thread: {"type": "create"}`,
 * which needs nothing held. Nothing is sent upstream.
 */
function refuseContinuedThread(body: unknown): void {
  const thread = (body as { thread?: unknown } | null)?.thread;
  if (typeof thread !== "object" || thread === null || (thread as { type?: unknown }).type !== "continue") return;
  throw new GatewayError(
    "not_found",
    'No thread found for \'thread.previous_message_id\': tandem holds no threads; send the whole conversation with thread {"type": "create"}',
    { param: "thread.previous_message_id", reason: "thread_not_found" },
  );
}
