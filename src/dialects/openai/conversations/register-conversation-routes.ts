import type { StateStore, StoredConversation, StoredItem } from "../../../core/state.js";
import type { RouteTable } from "../../shared/index.js";
import {
  type ConversationTurns,
  cursorChecked,
  duplicateItemId,
  duplicateItemMessage,
  invalidParam,
  normalizeInputItems,
  notFound,
  parseInclude,
  parseListQuery,
  parseMetadata,
  renderItemList,
  renderStoredItem,
  stateRoute,
  withDeclaredSensitivity,
} from "../state/index.js";

/** OpenAI lets a client add up to 20 items at a time, at creation and per items call. */
const MAX_ITEMS_PER_CALL = 20;

/** The Conversation object as OpenAI returns it. */
export function renderConversation(conversation: StoredConversation): Record<string, unknown> {
  return { id: conversation.id, object: "conversation", created_at: conversation.createdAt, metadata: conversation.metadata };
}

/**
 * OpenAI's Conversations API over the state store: create, retrieve, update and delete a
 * conversation; add, list, retrieve and delete its items. Deleting a conversation deletes its
 * items too (tandem keeps nothing the user deleted); responses made in it stay until deleted.
 */
export function registerConversationRoutes(app: RouteTable, state: StateStore, turns: ConversationTurns): void {
  app.post(
    "/v1/conversations",
    stateRoute(async (request) => {
      const body = bodyObject(request.body, true);
      const metadata = parseMetadata(body.metadata);
      const items =
        body.items === undefined || body.items === null ? [] : normalizeInputItems(body.items, "items", MAX_ITEMS_PER_CALL);
      refuseDuplicates(items, () => false);
      return renderConversation(await state.createConversation(metadata, withDeclaredSensitivity(items, request.headers)));
    }),
  );

  app.get(
    "/v1/conversations/:id",
    stateRoute(async (request) => renderConversation(await conversation(state, idOf(request.params)))),
  );

  app.post(
    "/v1/conversations/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const body = bodyObject(request.body, false);
      if (!("metadata" in body)) {
        throw invalidParam("metadata", "Missing required parameter: 'metadata'.", "missing_required_parameter");
      }
      const updated = await state.updateConversation(id, parseMetadata(body.metadata));
      if (!updated) throw notFound("Conversation", id);
      return renderConversation(updated);
    }),
  );

  app.delete(
    "/v1/conversations/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      if (!(await state.deleteConversation(id))) throw notFound("Conversation", id);
      return { id, object: "conversation.deleted", deleted: true };
    }),
  );

  app.post(
    "/v1/conversations/:id/items",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const include = parseInclude(request.query);
      const body = bodyObject(request.body, false);
      if (body.items === undefined) {
        throw invalidParam("items", "Missing required parameter: 'items'.", "missing_required_parameter");
      }
      const items = normalizeInputItems(body.items, "items", MAX_ITEMS_PER_CALL);
      // After the item changes before it (so that its duplicate check sees theirs); refused under a turn.
      return turns.changeItems(id, async () => {
        // Already in the conversation: at most 20 lookups by id (ids tandem made are new).
        const known = new Set<string>();
        for (const { item } of items) if ((await state.getConversationItem(id, item.id)) !== undefined) known.add(item.id);
        refuseDuplicates(items, (itemId) => known.has(itemId));
        const added = await state.addConversationItems(id, withDeclaredSensitivity(items, request.headers));
        if (!added) throw notFound("Conversation", id);
        return renderItemList({ data: added, hasMore: false }, include);
      });
    }),
  );

  app.get(
    "/v1/conversations/:id/items",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const { include, ...options } = parseListQuery(request.query);
      const page = await state.listConversationItems(id, options);
      if (!page) throw notFound("Conversation", id);
      return renderItemList(cursorChecked(page, options, "Item"), include);
    }),
  );

  app.get(
    "/v1/conversations/:id/items/:itemId",
    stateRoute(async (request) => {
      const { id, itemId } = request.params as { id: string; itemId: string };
      const include = parseInclude(request.query);
      await conversation(state, id);
      const stored = await state.getConversationItem(id, itemId);
      if (!stored) throw notFound("Item", itemId);
      return renderStoredItem(stored.item, include);
    }),
  );

  app.delete(
    "/v1/conversations/:id/items/:itemId",
    stateRoute(async (request) => {
      const { id, itemId } = request.params as { id: string; itemId: string };
      await conversation(state, id);
      // After the item changes before it: a second delete of one item finds it gone (a 404).
      return turns.changeItems(id, async () => {
        if (!(await state.deleteConversationItem(id, itemId))) throw notFound("Item", itemId);
        return renderConversation(await conversation(state, id));
      });
    }),
  );
}

async function conversation(state: StateStore, id: string): Promise<StoredConversation> {
  const found = await state.getConversation(id);
  if (!found) throw notFound("Conversation", id);
  return found;
}

function idOf(params: unknown): string {
  return (params as { id: string }).id;
}

/** The JSON body as an object; `optional` lets it be absent (the SDK sends none for `create()`). */
function bodyObject(body: unknown, optional: boolean): Record<string, unknown> {
  if ((body === undefined || body === null) && optional) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidParam("body", "The request body must be a JSON object.", "invalid_type");
  }
  return body as Record<string, unknown>;
}

/** A conversation's new items that give one id twice, or one it holds already: OpenAI's 400 (duplicate-items.ts). */
function refuseDuplicates(items: StoredItem[], known: (id: string) => boolean): void {
  const duplicate = duplicateItemId(
    items.map((stored) => stored.item.id),
    known,
  );
  if (duplicate !== undefined) throw invalidParam("items", duplicateItemMessage(duplicate));
}
