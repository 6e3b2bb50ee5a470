import type { StateStore } from "../../core/state.js";
import { canListState } from "../../core/state-listing.js";
import type { RouteTable } from "../shared/index.js";
import { registerConversationRoutes } from "./conversations/register-conversation-routes.js";
import { registerStateListRoutes } from "./register-state-list-routes.js";
import type { BackgroundResponses } from "./responses/background-responses.js";
import { registerStoredResponseRoutes } from "./responses/register-stored-response-routes.js";
import type { ConversationTurns, ResponsesInFlight } from "./state/index.js";

/**
 * The routes over the state tandem keeps: GET/DELETE /v1/responses/{id}, its cancel and
 * input_items, and the Conversations API with its items; and tandem's lists of them
 * (GET /v1/conversations, GET /v1/responses) when the store can list.
 */
export function registerStoredStateRoutes(
  app: RouteTable,
  state: StateStore,
  background: BackgroundResponses | undefined,
  turns: ConversationTurns,
  inFlight: ResponsesInFlight,
): void {
  registerStoredResponseRoutes(app, state, background, inFlight);
  registerConversationRoutes(app, state, turns);
  if (canListState(state)) registerStateListRoutes(app, state, background);
}
