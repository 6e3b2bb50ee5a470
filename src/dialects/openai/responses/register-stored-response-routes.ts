import type { StateStore, StoredResponse } from "../../../core/state.js";
import type { RouteTable } from "../../shared/index.js";
import {
  invalidParam,
  notFound,
  parseInclude,
  parseListQuery,
  renderItemList,
  StateApiError,
  stateRoute,
} from "../state/index.js";

/** Response statuses after which there is nothing left to cancel. */
const FINISHED = new Set(["completed", "failed", "incomplete", "cancelled"]);

/**
 * The routes over stored responses (POST /v1/responses, which creates them, is registered beside
 * these): retrieve, delete, cancel, and list a response's input items. A stored response is served
 * from tandem's store whichever target answered it.
 */
export function registerStoredResponseRoutes(app: RouteTable, state: StateStore): void {
  app.get(
    "/v1/responses/:id",
    stateRoute(async (request) => {
      const query = (request.query ?? {}) as Record<string, unknown>;
      parseInclude(query);
      const stored = await response(state, idOf(request.params));
      if (query.stream === "true") {
        // OpenAI streams a stored response again only for background responses.
        throw invalidParam("stream", "Streaming a stored response is only supported for responses created with background=true.");
      }
      return stored.response;
    }),
  );

  app.delete(
    "/v1/responses/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      if (!(await state.deleteResponse(id))) throw notFound("Response", id);
      return { id, object: "response.deleted", deleted: true };
    }),
  );

  app.post(
    "/v1/responses/:id/cancel",
    stateRoute(async (request) => {
      const stored = await response(state, idOf(request.params));
      // As OpenAI: only a background response can be cancelled, and one that has finished is
      // answered as it is. tandem runs no background responses, so every other one is refused.
      if (stored.response.background === true && FINISHED.has(String(stored.response.status))) return stored.response;
      throw new StateApiError(400, "Cannot cancel a synchronous response.");
    }),
  );

  app.get(
    "/v1/responses/:id/input_items",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const { include: _include, ...options } = parseListQuery(request.query);
      const page = await state.listInputItems(id, options);
      if (!page) throw notFound("Response", id);
      return renderItemList(page);
    }),
  );
}

async function response(state: StateStore, id: string): Promise<StoredResponse> {
  const found = await state.getResponse(id);
  if (!found) throw notFound("Response", id);
  return found;
}

function idOf(params: unknown): string {
  return (params as { id: string }).id;
}
