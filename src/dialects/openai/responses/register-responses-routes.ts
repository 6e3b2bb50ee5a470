import type { FastifyReply, FastifyRequest } from "fastify";
import type { ChatRequest, Gateway, RequestContext } from "../../../core/index.js";
import { GatewayError, isStoreFailure } from "../../../core/index.js";
import type { StoredResponse } from "../../../core/state.js";
import type { DialectServices, RouteTable } from "../../shared/index.js";
import {
  clientSignal,
  metaWarnings,
  requestRecord,
  routeToolsAnswerChoice,
  sendChat,
  warningsHeader,
} from "../../shared/index.js";
import {
  type ConversationTurns,
  type ResponsesInFlight,
  signedWholeReasoning,
  stateSensitivity,
  withSealedReasoningShown,
} from "../state/index.js";
import { type BackgroundResponses, type BackgroundRun, type RunIdentity, sendRunEvents } from "./background-responses.js";
import { composeConversation } from "./compose-conversation.js";
import { hostedToolsRequest, listedTools } from "./hosted-tools-request.js";
import { nativeResponse, nativeResponsesRequest, ResponsesNativeStream } from "./native-responses.js";
import { checkRouteServerLabels } from "./parse-mcp-tools.js";
import { type ParsedResponsesRequest, parseResponsesRequest } from "./parse-responses-request.js";
import { PendingResponse } from "./pending-response.js";
import { registerCompactRoute } from "./register-compact-route.js";
import { registerInputTokensRoute } from "./register-input-tokens-route.js";
import { outputItems, statusFor } from "./render-response.js";
import { ResponseStreamRenderer } from "./response-stream-renderer.js";
import { asResponsesError } from "./responses-error.js";
import { claimSocketTurn } from "./socket-turn-marks.js";

/** How ChatRequest.declaredPrivate names a WebSocket connection's earlier turns that held content declared private. */
const DECLARED_TURNS = "earlier turns of this connection that carried it";

/**
 * POST /v1/responses over every target: the conversation is composed from the state tandem keeps
 * and the new input, answered by `gateway.chat` (so tiers, retries, failover, privacy and quality
 * checks apply as for chat), rendered as a Response or its event stream, and stored. A target that
 * speaks the Responses API itself gets the client's body made stateless (native-responses.ts) and its
 * own events are relayed; every other target gets the canonical conversation. POST /v1/responses/compact
 * and /v1/responses/input_tokens are mounted with it (register-compact-route.ts, register-input-tokens-route.ts); retrieval, deletion, input items and the
 * Conversations API beside it by their own module.
 */
export function registerResponsesRoutes(
  app: RouteTable,
  gateway: Gateway,
  services: DialectServices,
  /** Background responses, when the server can run a turn without its client (DialectServices.loopback). */
  background: BackgroundResponses | undefined,
  /** The conversations with a turn under way, shared with the Conversations API's item routes. */
  turns: ConversationTurns,
  /** The responses being answered, which DELETE /v1/responses/{id} may delete before they are kept. */
  inFlight: ResponsesInFlight,
): void {
  registerCompactRoute(app, gateway, services);
  registerInputTokensRoute(app, gateway, services);
  app.post("/v1/responses", async (request, reply) => {
    requestRecord(request).dialect = "openai";
    const parsed = parseResponsesRequest(request.body, await routeToolsAnswerChoice(gateway, request.body));
    // A background run's own turn takes the run's id; a client's background request starts a run.
    const identity = background?.claim(request.headers);
    if (identity !== undefined) requestRecord(request).startedBy = identity.startedBy;
    if (parsed.background && identity === undefined) {
      if (background === undefined) {
        throw new GatewayError("invalid_request", "Invalid value for 'background': this server runs no background responses.", {
          param: "background",
        });
      }
      // The model is resolved now, so that a name that exists nowhere is a 404 here, not a failed run
      // later, and an mcp tool that would shadow a server of the route's a 400.
      checkRouteServerLabels(parsed.mcpParams, await gateway.model(parsed.chat.model));
      // Its conversation is taken now, before it is answered `queued`: a busy one is OpenAI's 400 here,
      // as for a foreground turn, not a run that fails later; and a turn arriving after it is refused.
      const hold = parsed.conversationId === undefined ? undefined : turns.hold(parsed.conversationId);
      let run: BackgroundRun;
      try {
        run = await background.start(request.body, parsed, request.headers, hold, request.id);
      } catch (err) {
        hold?.release();
        throw err;
      }
      if (parsed.chat.stream) return sendRunEvents(reply, run, -1);
      return reply.code(200).send(run.response);
    }
    // A `store: false` turn appends nothing to the conversation it reads (PendingResponse), so it holds
    // nothing: it reads the conversation as it stands, without the turn under way if there is one.
    const appendsTo = parsed.store ? parsed.conversationId : undefined;
    await turns.run(appendsTo, () => respond(request, reply, parsed, gateway, services, identity, inFlight), identity?.hold);
  });
}

/** One response: composed from the stored history and the new input, answered, rendered and kept. */
async function respond(
  request: FastifyRequest,
  reply: FastifyReply,
  parsed: ParsedResponsesRequest,
  gateway: Gateway,
  services: DialectServices,
  identity: RunIdentity | undefined,
  inFlight: ResponsesInFlight,
): Promise<void> {
  // An mcp tool labelled as a server the route gives the model: a 400 before anything is listed or asked.
  if (parsed.mcp.length > 0) checkRouteServerLabels(parsed.mcpParams, await gateway.model(parsed.chat.model));
  const composed = await composeConversation(parsed, services.state, services.files, clientSignal(request, reply));
  // A WebSocket connection's `store: false` chain comes as input: the connection says what its
  // earlier turns held declared private, as the store says it of stored items.
  const socketTurn = claimSocketTurn(request.headers);
  if (socketTurn?.carries === true) composed.declaredPrivate.push(DECLARED_TURNS);
  // Its body names the stored response the connection's chain starts from (or none): the Response
  // echoes the one the client named, as OpenAI's does; the store keeps the chain by the stored one.
  if (socketTurn?.previousResponseId !== undefined) parsed.echo.previous_response_id = socketTurn.previousResponseId;
  const { headers, level, floor } = stateSensitivity(request.headers, composed.historySensitivity);
  // MCP servers' tools and file_search: run by tandem's tool loop, between the model's turns, on the
  // canonical path (so a file_search naming tandem's stores never reaches a Responses upstream).
  const hostedWanted = parsed.mcp.length > 0 || parsed.fileSearch !== undefined;
  const runner = hostedWanted ? services.hostedTools : undefined;
  if (hostedWanted && runner === undefined) {
    if (parsed.fileSearch !== undefined) {
      throw new GatewayError("invalid_request", "Invalid value for 'tools': this server runs no tool loop for file_search.", {
        param: "tools",
      });
    }
    parsed.warnings.add("tool:mcp", "tools of type 'mcp' were left out: this server runs no tool loop");
  }
  let answering: Pick<Gateway, "chat"> = gateway;
  if (runner !== undefined) {
    const hosted = {
      ...hostedToolsRequest(parsed, composed.items, new Set(composed.input.map((record) => record.item))),
      ...(level !== undefined && { sensitivity: level }),
    };
    answering = { chat: (chat: ChatRequest, context: RequestContext) => runner.chat(gateway, chat, hosted, context) };
  }
  const pending = new PendingResponse(parsed, composed, services.state, level, identity);
  if (socketTurn !== undefined) {
    pending.whenKept((declaredPrivate) => {
      socketTurn.declaredPrivate = declaredPrivate;
    });
  }
  // A background run's turn is kept from its start, however the run ends (PendingResponse.keepStarted).
  if (identity !== undefined) identity.started(await keptFromStart(pending));
  // For a target that speaks the Responses API: the client's body, made stateless (native-responses.ts).
  const native = nativeResponsesRequest(request.body, request.headers, composed.nativeItems, parsed.store, {
    wireOnly: parsed.wireOnly,
    unread: composed.storedUnread,
    lost: parsed.lost,
  });
  // What was left out holds for the path taken: the canonical conversion's, or the native request's.
  const canonicalWarnings = parsed.warnings.entries();
  // The client's include asked for the answer's token logprobs (see ChatRequest.logprobs).
  const logprobs = parsed.chat.logprobs !== undefined;
  // What MCP servers listed earlier in the conversation: a route's servers are not listed (and shown) again either.
  const listed = listedTools(composed.items);
  let renderer: ResponseStreamRenderer | undefined;
  try {
    // A background run's turn is deleted through its run; a client's own, by its id while it is answered.
    const answer = () =>
      sendChat(
        request,
        reply,
        answering,
        {
          ...parsed.chat,
          messages: composed.messages,
          ...(floor !== undefined && { sensitivityFloor: floor }),
          ...(composed.declaredPrivate.length > 0 && { declaredPrivate: composed.declaredPrivate }),
          ...(listed.size > 0 && { listedTools: listed }),
          // With hosted tools the loop answers, turn by turn, on the canonical path.
          native: runner === undefined ? native.native : undefined,
          ...(composed.history !== undefined && {
            history: composed.history((item, target) => pending.keepSummary(item, target)),
          }),
        },
        {
          stream: (meta) => {
            renderer = new ResponseStreamRenderer(pending, meta, { logprobs, encrypted: native.clientWantsEncrypted });
            return renderer;
          },
          json: (result, meta) => {
            const status = statusFor(result.finishReason, result.rawFinishReason);
            const output = outputItems(result, status.status, logprobs, parsed, parsed.fileSearchResults);
            const kept = signedWholeReasoning(result.reasoningBlocks, output, meta.target);
            const shown = native.clientWantsEncrypted ? withSealedReasoningShown(output, kept) : output;
            return pending.finish(meta, { ...status, output: shown, usage: result.usage }, kept);
          },
          headers: (meta) => {
            if (meta.native) {
              const warnings = native.warningsFor(meta.target);
              return warnings === undefined ? undefined : { "x-tandem-warnings": warnings };
            }
            // The canonical conversion's, and the target's own (settings it is not sent, earlier reasoning).
            // The router names the fields the canonical form does not carry (NativeRequest.lost); the tool
            // loop's turns are sent no native request, so they are named here.
            const lost = runner === undefined ? [] : parsed.lost;
            const warnings = [...metaWarnings({ ...meta, warnings: [...(meta.warnings ?? []), ...lost] }), ...canonicalWarnings];
            return warnings.length === 0 ? undefined : { "x-tandem-warnings": warningsHeader(warnings) };
          },
          native: {
            stream: (meta) =>
              new ResponsesNativeStream(pending, meta, renderer as ResponseStreamRenderer, native.clientWantsEncrypted),
            json: (frames, meta) => nativeResponse(frames, meta, pending, native.clientWantsEncrypted),
          },
        },
        headers,
      );
    await (identity === undefined ? inFlight.run(pending, answer) : answer());
  } catch (err) {
    throw asResponsesError(err);
  }
}

/**
 * What a background run's turn saved as it began; a store that cannot take it (a full disk) does
 * not stop the turn, whose end is saved as any turn's is (or, failing that, read as interrupted).
 */
async function keptFromStart(pending: PendingResponse): Promise<StoredResponse | undefined> {
  try {
    return await pending.keepStarted();
  } catch (err) {
    if (isStoreFailure(err)) return undefined;
    throw err;
  }
}
