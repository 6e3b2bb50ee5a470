import type { ChatCompletionStore } from "../../../core/index.js";
import type { RouteTable } from "../../shared/index.js";
import {
  cursorChecked,
  notFound,
  parseMetadata,
  parsePaging,
  refuseUnknownFields,
  renderList,
  StateApiError,
  stateRoute,
  typeOf,
} from "../state/index.js";
import { parseChatListQuery } from "./parse-chat-list-query.js";
import { renderStoredChatCompletion, renderStoredChatMessage } from "./render-stored-chat.js";

/**
 * The routes over stored chat completions (POST /v1/chat/completions with `store: true` stores
 * them): list, retrieve, update (metadata), delete, and list a completion's messages. They are
 * served from tandem's store whichever target answered.
 */
export function registerStoredChatRoutes(app: RouteTable, store: ChatCompletionStore): void {
  app.get(
    "/v1/chat/completions",
    stateRoute(async (request) => {
      const options = parseChatListQuery(request.query);
      const page = cursorChecked(await store.listCompletions(options), options, "Chat completion");
      return renderList(page.data.map(renderStoredChatCompletion), page.hasMore);
    }),
  );

  app.get(
    "/v1/chat/completions/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const found = await store.getCompletion(id);
      if (!found) throw notFound("Chat completion", id);
      return renderStoredChatCompletion(found);
    }),
  );

  app.post(
    "/v1/chat/completions/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const body = request.body;
      if (body === null || typeof body !== "object" || Array.isArray(body))
        throw new StateApiError(400, `Invalid body: expected an object, but got ${typeOf(body)} instead.`);
      // As OpenAI: `metadata` is required (null clears it), and the only field that can change (any other is a 400).
      if (!("metadata" in body))
        throw new StateApiError(400, "Missing required parameter: 'metadata'.", {
          param: "metadata",
          code: "missing_required_parameter",
        });
      refuseUnknownFields(body, ["metadata"]);
      const metadata = parseMetadata((body as { metadata: unknown }).metadata);
      const updated = await store.updateMetadata(id, metadata);
      if (!updated) throw notFound("Chat completion", id);
      return renderStoredChatCompletion(updated);
    }),
  );

  app.delete(
    "/v1/chat/completions/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      if (!(await store.deleteCompletion(id))) throw notFound("Chat completion", id);
      return { object: "chat.completion.deleted", id, deleted: true };
    }),
  );

  app.get(
    "/v1/chat/completions/:id/messages",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const options = parsePaging(request.query, { defaultLimit: 20, maxLimit: 100, defaultOrder: "asc" });
      const page = await store.listMessages(id, options);
      if (!page) throw notFound("Chat completion", id);
      return renderList(
        cursorChecked(page, options, "Message").data.map((message) => renderStoredChatMessage(id, message)),
        page.hasMore,
      );
    }),
  );
}

function idOf(params: unknown): string {
  return (params as { id: string }).id;
}
