import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Gateway } from "../../router/gateway.js";
import { clientSignal } from "../../server/client-signal.js";
import type { Dialect } from "../../server/dialect.js";
import { metaHeaders } from "../../server/meta-headers.js";
import { requestRecord } from "../../server/request-record.js";
import { sendChat } from "../../server/respond.js";
import { parseBody } from "../shared/index.js";
import { convertFromAnthropicRequest } from "./convert-from-anthropic-messages.js";
import { MessageStreamRenderer } from "./message-stream-renderer.js";
import { CountTokensRequestSchema, MessagesRequestSchema } from "./messages-api.js";
import { AnthropicNativeStream, nativeAnthropicMessage, nativeAnthropicRequest } from "./native-anthropic.js";
import { renderAnthropicError } from "./render-error.js";
import { renderMessage } from "./render-message.js";

export { type AnthropicModel, type AnthropicModelList, renderAnthropicModel, renderAnthropicModelList } from "./models.js";
export { renderAnthropicError } from "./render-error.js";

/**
 * The Anthropic Messages API: POST /v1/messages (JSON or SSE) and POST /v1/messages/count_tokens.
 * GET /v1/models is shared with OpenAI and mounted by the server (see renderAnthropicModelList).
 */
export const anthropicDialect: Dialect = {
  name: "anthropic",

  register(app: FastifyInstance, gateway: Gateway): void {
    app.post("/v1/messages", async (request: FastifyRequest, reply: FastifyReply) => {
      requestRecord(request).dialect = "anthropic";
      const chat = convertFromAnthropicRequest(parseBody(MessagesRequestSchema, request.body));
      chat.native = nativeAnthropicRequest(request.body, request.headers);
      let renderer: MessageStreamRenderer | undefined;
      await sendChat(request, reply, gateway, chat, {
        stream: (meta) => {
          renderer = new MessageStreamRenderer(meta);
          return renderer;
        },
        json: renderMessage,
        native: {
          stream: (meta) => new AnthropicNativeStream(meta, renderer ?? new MessageStreamRenderer(meta)),
          json: nativeAnthropicMessage,
        },
      });
    });

    app.post("/v1/messages/count_tokens", async (request: FastifyRequest, reply: FastifyReply) => {
      requestRecord(request).dialect = "anthropic";
      const chat = convertFromAnthropicRequest(parseBody(CountTokensRequestSchema, request.body));
      chat.stream = false;
      const counted = await gateway.countTokens(chat, { signal: clientSignal(request, reply), headers: request.headers });
      await reply.code(200).headers(metaHeaders(counted.meta)).send({ input_tokens: counted.inputTokens });
    });
  },

  renderError: renderAnthropicError,
};
