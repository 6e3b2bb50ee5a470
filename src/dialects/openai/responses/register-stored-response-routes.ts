import type { StateStore, StoredResponse } from "../../../core/state.js";
import type { RouteTable } from "../../shared/index.js";
import {
  cursorChecked,
  invalidParam,
  keepsAnthropicThinking,
  notFound,
  parseInclude,
  parseListQuery,
  type ResponsesInFlight,
  renderItemList,
  renderStoredMcpCall,
  StateApiError,
  stateRoute,
} from "../state/index.js";
import { type BackgroundResponses, sendRunEvents } from "./background-responses.js";

const ENCRYPTED_REASONING = "reasoning.encrypted_content";

/** Response statuses after which there is nothing left to cancel. */
const FINISHED = new Set(["completed", "failed", "incomplete", "cancelled"]);

/**
 * The routes over stored responses (POST /v1/responses, which creates them, is registered beside
 * these): retrieve, delete, cancel, and list a response's input items. A stored response is served
 * from tandem's store whichever target answered it.
 */
export function registerStoredResponseRoutes(
  app: RouteTable,
  state: StateStore,
  background: BackgroundResponses | undefined,
  /** The responses being answered: one may be deleted before it is kept. */
  inFlight: ResponsesInFlight,
): void {
  app.get(
    "/v1/responses/:id",
    stateRoute(async (request, reply) => {
      const query = (request.query ?? {}) as Record<string, unknown>;
      const include = parseInclude(query);
      const id = idOf(request.params);
      // A background response is answered by its run while tandem keeps it (its status as it stands).
      const run = background?.get(id);
      if (query.stream === "true") {
        if (run !== undefined) return sendRunEvents(reply, run, startingAfter(query));
        const stored = await response(state, id);
        if (stored.response.background === true) {
          throw invalidParam(
            "stream",
            "The events of this background response are no longer kept (it finished long ago, or tandem restarted since); retrieve it without stream.",
          );
        }
        // OpenAI streams a stored response again only for background responses.
        throw invalidParam("stream", "Streaming a stored response is only supported for responses created with background=true.");
      }
      if (run !== undefined) return run.response;
      const stored = await response(state, id);
      const settled = background === undefined ? stored.response : await background.settled(stored);
      return include.includes(ENCRYPTED_REASONING) ? withEncryptedReasoning(settled, stored) : settled;
    }),
  );

  app.delete(
    "/v1/responses/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const run = background?.get(id);
      if (run !== undefined) background?.delete(run);
      // One still being answered is deleted as it is kept (ResponsesInFlight).
      const answering = inFlight.delete(id);
      if (!(await state.deleteResponse(id)) && run === undefined && !answering) throw notFound("Response", id);
      return { id, object: "response.deleted", deleted: true };
    }),
  );

  app.post(
    "/v1/responses/:id/cancel",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const run = background?.get(id);
      if (run !== undefined) {
        if (run.finished) return refuseEnded(run.response);
        background?.cancel(run);
        return run.response;
      }
      // A foreground response still being answered is not in the store yet, but it is no less synchronous.
      if (inFlight.has(id)) throw new StateApiError(400, "Cannot cancel a synchronous response.");
      const stored = await response(state, id);
      const current = background === undefined ? stored.response : await background.settled(stored);
      // Only a background response can be cancelled; one that has ended cannot, unless it was cancelled.
      if (current.background === true && FINISHED.has(String(current.status))) return refuseEnded(current);
      throw new StateApiError(400, "Cannot cancel a synchronous response.");
    }),
  );

  app.get(
    "/v1/responses/:id/input_items",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const { include, ...options } = parseListQuery(request.query, { before: true });
      const page = await state.listInputItems(id, options);
      if (!page) throw notFound("Response", id);
      return renderItemList(cursorChecked(page, options, "Item"), include);
    }),
  );
}

/**
 * A background response that has ended, cancelled again: a cancelled one is answered as it is
 * (cancelling is idempotent); one that completed, failed or ended incomplete is OpenAI's 400.
 */
function refuseEnded(response: Record<string, unknown>): Record<string, unknown> {
  const status = String(response.status);
  if (status === "cancelled") return response;
  throw new StateApiError(
    400,
    status === "completed" || status === "failed"
      ? `Cannot cancel a ${status} response.`
      : "Cannot cancel a response in terminal state.",
  );
}

async function response(state: StateStore, id: string): Promise<StoredResponse> {
  const found = await state.getResponse(id);
  if (!found) throw notFound("Response", id);
  // Saved before the field was rendered: `access_programs` is required (nullable) since openai-node 7.
  const response = "access_programs" in found.response ? found.response : { access_programs: null, ...found.response };
  // Saved before `mcp_call.error` was an object (McpToolCallError): as the API types it now.
  const output = Array.isArray(response.output) ? (response.output as Array<Record<string, unknown>>) : undefined;
  return { ...found, response: output === undefined ? response : { ...response, output: output.map(renderStoredMcpCall) } };
}

/**
 * The Response with its reasoning items' `encrypted_content`, as retrieving with `include:
 * ["reasoning.encrypted_content"]` gives it (ResponseRetrieveParams.include in the openai SDK): the
 * stored Response is the view the client was given (without it, unless it asked when it created it),
 * the stored output items hold what the upstream sealed. An Anthropic signature tandem keeps is
 * (a signature, redacted thinking) is not the Responses API's and is not given (thinking-signature.ts).
 */
function withEncryptedReasoning(response: Record<string, unknown>, stored: StoredResponse): Record<string, unknown> {
  if (!Array.isArray(response.output)) return response;
  const sealed = new Map<string, string>();
  for (const { item } of stored.output) {
    if (item.type !== "reasoning" || typeof item.encrypted_content !== "string" || keepsAnthropicThinking(item)) continue;
    sealed.set(item.id, item.encrypted_content);
  }
  if (sealed.size === 0) return response;
  const output = (response.output as Array<Record<string, unknown>>).map((item) => {
    const encrypted = item.type === "reasoning" && typeof item.id === "string" ? sealed.get(item.id) : undefined;
    return encrypted === undefined ? item : { ...item, encrypted_content: encrypted };
  });
  return { ...response, output };
}

function idOf(params: unknown): string {
  return (params as { id: string }).id;
}

/** `starting_after`: the sequence number after which a stream resumes (-1, from the start, when absent). */
function startingAfter(query: Record<string, unknown>): number {
  const raw = query.starting_after;
  if (raw === undefined) return -1;
  // Digits only: Number() would read "" as 0, and " 1", "0x2" or "1e1" as numbers the client did not write.
  const value = typeof raw === "string" && /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw invalidParam(
      "starting_after",
      "Invalid value for 'starting_after': expected a sequence number (an integer, 0 or more).",
    );
  }
  return value;
}
