import type { FastifyReply, FastifyRequest } from "fastify";
import { GatewayError, isStoreFailure, storeUnavailable } from "../../../core/index.js";
import type { ListPage } from "../../../core/state.js";
import { requestRecord } from "../../shared/index.js";

/**
 * An error of the stored-response and Conversations routes, with the `type`, `param` and `code`
 * OpenAI sends for it. These are not gateway errors: an unknown response id is OpenAI's 404 with
 * `code: null`, not the `model_not_found` a GatewayError's `not_found` renders as.
 */
export class StateApiError extends Error {
  override readonly name = "StateApiError";
  readonly status: number;
  readonly param: string | null;
  readonly code: string | null;

  constructor(status: number, message: string, options: { param?: string; code?: string } = {}) {
    super(message);
    this.status = status;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }

  get body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: "invalid_request_error", param: this.param, code: this.code } };
  }
}

/** A bad field: 400 naming it, with OpenAI's code for the check that failed (default `invalid_value`). */
export function invalidParam(param: string, message: string, code = "invalid_value"): StateApiError {
  return new StateApiError(400, message, { param, code });
}

/**
 * A body's first field not among `known`, refused by name as OpenAI refuses it (400 `unknown_parameter`).
 * `path` names where the object sits in the body (`files[0].`), for an object nested in it.
 */
export function refuseUnknownFields(body: Record<string, unknown>, known: readonly string[], path = ""): void {
  const unknown = Object.keys(body).find((key) => !known.includes(key));
  if (unknown === undefined) return;
  const name = `${path}${unknown.slice(0, 100)}`;
  throw invalidParam(name, `Unrecognized request argument supplied: ${name}`, "unknown_parameter");
}

/** An unknown id, as OpenAI says it: `Response with id 'resp_…' not found.` (404, code null). */
export function notFound(what: "Response" | "Conversation" | "Item" | "Chat completion", id: string): StateApiError {
  return new StateApiError(404, `${what} with id '${id}' not found.`);
}

/**
 * A list's page, or the 404 naming the cursor (`after`, or `before`) that names nothing in the list
 * (deleted since, or never one), in the words of an unknown id: every list answers so, never with
 * its first page again (which an SDK's auto-pagination would show twice, and loop on).
 */
export function cursorChecked<T>(page: ListPage<T>, options: { after?: string; before?: string }, what: string): ListPage<T> {
  if (page.unknownCursor === undefined) return page;
  const id = String(options[page.unknownCursor]).slice(0, 200);
  throw new StateApiError(404, `${what} with id '${id}' not found.`, { param: page.unknownCursor });
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Wraps a route: a StateApiError is sent in OpenAI's shape (and kept on the request record for the
 * log); anything else goes on to the server's error handler (a passing store failure as a 503).
 */
export function stateRoute(handler: Handler): Handler {
  return async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (err) {
      // A full disk, a busy file or a damaged page: a 503, not a 500. The file's path and SQLite's
      // words stay in the server (the error's cause), out of the client's answer.
      if (isStoreFailure(err)) throw storeUnavailable(err);
      if (!(err instanceof StateApiError)) throw err;
      requestRecord(request).error = new GatewayError(err.status === 404 ? "not_found" : "invalid_request", err.message, {
        status: err.status,
        ...(err.param !== null && { param: err.param }),
      });
      return reply.code(err.status).send(err.body);
    }
  };
}
