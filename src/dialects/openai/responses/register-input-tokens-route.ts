import type { Gateway } from "../../../core/index.js";
import { GatewayError } from "../../../core/index.js";
import type { DialectServices, RouteTable } from "../../shared/index.js";
import { clientSignal, metaHeaders, requestRecord } from "../../shared/index.js";
import { composeConversation } from "./compose-conversation.js";
import { parseResponsesRequest } from "./parse-responses-request.js";

/** Fields of a Responses request that play no part in what its input costs. */
const NOT_COUNTED = ["stream", "stream_options", "store", "background", "include"];

/**
 * POST /v1/responses/input_tokens (OpenAI's `client.responses.inputTokens.count`): how many input
 * tokens a Responses request would use, answered `{object: "response.input_tokens", input_tokens}`.
 * The conversation is composed as POST /v1/responses composes it (the stored chain of
 * `previous_response_id`, or `conversation`'s items, then `input`; instructions, tools and the files
 * it names), and counted for the target the model resolves to first: by a local model's own
 * tokenizer, else estimated (core's Gateway.countTokens, as Anthropic's count_tokens is). With
 * `truncation: "auto"` it is counted as fitted to that target's window, as it would be sent.
 * Nothing is generated or stored.
 * Without `model`, the previous response's model is counted for, as a follow-up would be answered.
 */
export function registerInputTokensRoute(app: RouteTable, gateway: Gateway, services: DialectServices): void {
  app.post("/v1/responses/input_tokens", async (request, reply) => {
    requestRecord(request).dialect = "openai";
    const body = request.body ?? {};
    if (typeof body !== "object" || Array.isArray(body)) {
      throw new GatewayError("invalid_request", "The request body must be a JSON object");
    }
    const fields: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const name of NOT_COUNTED) delete fields[name];
    if (fields.model == null) fields.model = await previousModel(fields.previous_response_id, services);
    fields.input ??= [];
    const parsed = parseResponsesRequest({ ...fields, store: false });
    const signal = clientSignal(request, reply);
    // The files it names are read as for POST /v1/responses: a stored file counts as what a target is sent.
    const composed = await composeConversation(parsed, services.state, services.files, signal);
    // An input only a Responses-native target takes (items tandem cannot convert): nothing here counts it.
    const uncounted = parsed.wireOnly.find((entry) => entry.param.startsWith("input["));
    if (uncounted !== undefined && !composed.messages.some((m) => m.role !== "system")) {
      throw new GatewayError("invalid_request", `Invalid value for '${uncounted.param}': ${uncounted.what} cannot be counted.`, {
        param: uncounted.param,
      });
    }
    // `truncation: "auto"` counts the conversation as the target would be sent it: cut to its window,
    // the stored summary of older turns in their place (the hook keeps nothing: a count writes no summary).
    const fits = parsed.chat.fitToWindow !== false;
    const counted = await gateway.countTokens(
      {
        ...parsed.chat,
        messages: composed.messages,
        stream: false,
        ...(fits && { fitToWindow: true }),
        ...(fits && composed.history !== undefined && { history: composed.history(() => undefined) }),
      },
      { signal, headers: request.headers },
    );
    await reply
      .code(200)
      .headers(metaHeaders(counted.meta))
      .send({ object: "response.input_tokens", input_tokens: counted.inputTokens });
  });
}

/** The model of the response a follow-up continues; a 400 naming `model` when there is none to take. */
async function previousModel(previousResponseId: unknown, services: DialectServices): Promise<unknown> {
  if (typeof previousResponseId === "string" && previousResponseId !== "") {
    const stored = await services.state.getResponse(previousResponseId);
    if (typeof stored?.response.model === "string") return stored.response.model;
  }
  throw new GatewayError("invalid_request", "Missing required parameter: 'model'.", {
    param: "model",
    reason: "missing_required_parameter",
  });
}
