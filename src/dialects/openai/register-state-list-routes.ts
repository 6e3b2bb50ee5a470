import type { ListOptions, StateStore } from "../../core/state.js";
import { UNFINISHED_RESPONSE_STATUSES } from "../../core/state.js";
import type { ConversationSummary, ResponseSummary, StoredStateLister } from "../../core/state-listing.js";
import type { RouteTable } from "../shared/index.js";
import { renderConversation } from "./conversations/register-conversation-routes.js";
import type { BackgroundResponses } from "./responses/background-responses.js";
import { cursorChecked, parsePaging, renderList, stateRoute } from "./state/index.js";

/**
 * tandem's own lists of the state it keeps (OpenAI's API has neither: a client keeps its own ids):
 * `GET /v1/conversations`, newest change first, each the Conversation object plus `updated_at`,
 * `item_count` and `preview`; and `GET /v1/responses`, newest first, each a summary
 * (`object: "response.summary"`) whose whole is at `GET /v1/responses/{id}`. Both page as OpenAI's
 * lists do (`limit` 1..100, default 20; `after`; `order`, default desc). An `after` that names no
 * stored conversation or response (deleted since) is a 404 naming `after`: starting again from the
 * top would show a client the same page twice.
 *
 * A GET on /v1/responses with `Upgrade: websocket` never reaches this route: Node hands an upgrade
 * to the server's `upgrade` listener (the Responses WebSocket mode), not to Fastify.
 */
export function registerStateListRoutes(
  app: RouteTable,
  lister: StateStore & StoredStateLister,
  background: BackgroundResponses | undefined,
): void {
  app.get(
    "/v1/conversations",
    stateRoute(async (request) => {
      const options = paging(request.query);
      const page = cursorChecked(await lister.listConversations(options), options, "Conversation");
      return renderList(page.data.map(renderConversationSummary), page.hasMore);
    }),
  );

  app.get(
    "/v1/responses",
    stateRoute(async (request) => {
      const options = paging(request.query);
      const page = cursorChecked(await lister.listResponses(options), options, "Response");
      const data = await Promise.all(page.data.map(async (summary) => renderResponseSummary(await settle(summary))));
      return renderList(data, page.hasMore);
    }),
  );

  /**
   * A background response's status as it stands: its run's while tandem runs it; one left unfinished
   * in the store by a tandem that stopped is failed (as a retrieve of it says, and saves).
   */
  async function settle(summary: ResponseSummary): Promise<ResponseSummary> {
    if (background === undefined || summary.status === null || !UNFINISHED_RESPONSE_STATUSES.has(summary.status)) return summary;
    const run = background.get(summary.id);
    if (run !== undefined) return { ...summary, status: String(run.response.status) };
    const stored = await lister.getResponse(summary.id);
    if (stored === undefined) return summary;
    const settled = await background.settled(stored);
    return { ...summary, status: String(settled.status) };
  }
}

/** The query both lists take: OpenAI's paging, nothing else (a misspelled `order` is a 400, not ignored). */
function paging(query: unknown): ListOptions {
  return parsePaging(query, { defaultLimit: 20, maxLimit: 100 });
}

/** A conversation as `GET /v1/conversations/{id}` returns it, plus tandem's `updated_at`, `item_count` and `preview`. */
export function renderConversationSummary(summary: ConversationSummary): Record<string, unknown> {
  return {
    ...renderConversation(summary.conversation),
    updated_at: summary.updatedAt,
    item_count: summary.itemCount,
    preview: summary.preview,
  };
}

/** A stored response in a list: what tells it apart, with its input's and output's text cut short. */
export function renderResponseSummary(summary: ResponseSummary): Record<string, unknown> {
  return {
    id: summary.id,
    object: "response.summary",
    created_at: summary.createdAt,
    model: summary.model,
    status: summary.status,
    previous_response_id: summary.previousResponseId,
    // As a Response names its conversation.
    conversation: summary.conversationId === null ? null : { id: summary.conversationId },
    input_preview: summary.inputPreview,
    output_preview: summary.outputPreview,
  };
}
