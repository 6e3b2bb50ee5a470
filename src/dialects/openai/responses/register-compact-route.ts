import type { FastifyReply, FastifyRequest } from "fastify";
import { collectText, summarizeInPieces, summaryRequest, withEarlierSummary } from "../../../context/summarize-history.js";
import type { ChatRequest, ChatStream, Gateway, RequestContext, StreamEvent, Usage } from "../../../core/index.js";
import { type ChatResult, GatewayError, type Message, makeId, type ResponseMeta, SUMMARY_LEAD } from "../../../core/index.js";
import type { ItemSensitivity, StateItem } from "../../../core/state.js";
import { higherSensitivity } from "../../../privacy/index.js";
import type { DialectServices, RouteTable } from "../../shared/index.js";
import { clientSignal, metaWarnings, requestRecord, sendChat, warningsHeader } from "../../shared/index.js";
import { parseOpenAIBody } from "../parse-openai-body.js";
import { stateSensitivity } from "../state/index.js";
import { composeConversation } from "./compose-conversation.js";
import { type HistorySummary, readSummary, summaryItem } from "./history-summary.js";
import { parseResponsesRequest } from "./parse-responses-request.js";
import { renderResponsesUsage } from "./render-response.js";
import { compactRequestSchema } from "./responses-api.js";
import { asResponsesError } from "./responses-error.js";

/** The most the model is asked to write for a compaction: a summary to continue from, not a transcript. */
const COMPACTION_MAX_TOKENS = 2048;

/**
 * POST /v1/responses/compact (OpenAI's `client.responses.compact`): a long conversation — the
 * request's `input`, after the history of `previous_response_id` when given — made short enough to
 * continue. The answer is OpenAI's `response.compaction` object: every user message, as it was, then
 * one `compaction` item standing for the rest, which the client sends back as input on its next
 * `POST /v1/responses` (any target can continue from it: tandem gives the target its summary).
 *
 * The summary is written by the request's `model` (a target or a route, through the router, so its
 * tiers, failover, privacy and audit apply; a history with private turns is at least that sensitive),
 * with tandem's summarizer prompt; its content is in tandem's own format (history-summary.ts), which
 * a client keeps as it is, as it keeps OpenAI's. Nothing is stored: as OpenAI's, the compacted
 * output lives with the client. OpenAI's own compaction items, which tandem cannot read, are not
 * summarized: they stay in the output where they were (a Responses-native target reads them on the
 * next turn), named in x-tandem-warnings. A summarizer whose window cannot hold the conversation
 * summarizes it in pieces (summarizeInPieces). Errors are the Responses API's (`param: "input"`).
 */
export function registerCompactRoute(app: RouteTable, gateway: Gateway, services: DialectServices): void {
  app.post("/v1/responses/compact", async (request, reply) => {
    requestRecord(request).dialect = "openai";
    try {
      await compact(request, reply, gateway, services);
    } catch (err) {
      throw asResponsesError(err);
    }
  });
}

/** POST /v1/responses/compact's work; its errors are made the Responses API's by the route. */
async function compact(request: FastifyRequest, reply: FastifyReply, gateway: Gateway, services: DialectServices): Promise<void> {
  const wire = parseOpenAIBody(compactRequestSchema, request.body);
  // The conversation as /v1/responses would compose it: stored history, references, tandem's summaries.
  const parsed = parseResponsesRequest({
    model: wire.model,
    input: wire.input ?? [],
    ...(wire.instructions != null && { instructions: wire.instructions }),
    ...(wire.previous_response_id != null && { previous_response_id: wire.previous_response_id }),
    store: false,
  });
  // It refuses, as /v1/responses does, a conversation with nothing but instructions ('input' missing).
  const composed = await composeConversation(parsed, services.state, services.files, clientSignal(request, reply));
  // The summary tandem stored for the history's older turns stands for them here: a compaction is a cut.
  const messages =
    composed.earlier === undefined
      ? composed.messages
      : withEarlierSummary({ messages: composed.messages }, composed.earlier).messages;
  const { previous, turns } = transcriptOf(messages, wire.instructions ?? undefined);
  const items = composed.items.map((s) => s.item);
  const through = items.at(-1)?.id as string;
  // OpenAI's own compaction items carry context tandem cannot read (nor summarize): kept as they came.
  const foreign = (item: StateItem) => item.type === "compaction" && readSummary(item) === undefined;
  const kept = items.filter((item) => (item.type === "message" && item.role === "user") || foreign(item));
  const opaque = kept.filter(foreign).length;
  if (opaque > 0) {
    parsed.warnings.remove("item:compaction");
    parsed.warnings.add(
      "compact:compaction",
      `input items of type 'compaction' not made by tandem (${opaque}) were not summarized: tandem cannot read them; ` +
        "they are kept in output as they came (only a Responses-native target reads them)",
    );
  }
  const warnings = parsed.warnings.entries();
  const { headers, level, floor } = stateSensitivity(request.headers, composed.historySensitivity);
  const summarize = summaryRequest(wire.model, previous, turns, COMPACTION_MAX_TOKENS);
  // A summarizer whose window cannot hold the conversation writes it in pieces, each on the summary so far.
  const inPieces: Pick<Gateway, "chat"> = {
    chat: (chat, context) => summarizedInPieces(gateway, chat, context, previous, turns),
  };
  // Content declared private in the history cannot be redacted: its summary is written on this machine.
  const declaredPrivate = composed.declaredPrivate.length > 0 ? composed.declaredPrivate : undefined;
  await sendChat(
    request,
    reply,
    inPieces,
    {
      ...summarize,
      ...(floor !== undefined && { sensitivityFloor: floor }),
      ...(declaredPrivate !== undefined && { declaredPrivate }),
    },
    {
      stream: () => {
        throw new GatewayError("internal", "a compaction is never streamed");
      },
      json: (result, meta) => compacted(result, meta, kept, through, level),
      headers: (meta) => {
        const all = [...metaWarnings(meta), ...warnings];
        return all.length === 0 ? undefined : { "x-tandem-warnings": warningsHeader(all) };
      },
    },
    headers,
  );
}

/**
 * The summary of `turns` (after `previous`) as one answer: asked whole, and where the summarizer's
 * window cannot hold it, in pieces (summarizeInPieces), the last piece's answer given with the usage
 * of every piece and x-tandem-degraded saying it was written in pieces.
 */
async function summarizedInPieces(
  gateway: Pick<Gateway, "chat">,
  chat: ChatRequest,
  context: RequestContext,
  previous: string | undefined,
  turns: readonly Message[],
): Promise<ChatStream> {
  const earlierUsage: Array<Partial<Usage> | undefined> = [];
  const made = await summarizeInPieces(
    previous,
    turns,
    (summary, piece) =>
      gateway.chat({ ...chat, messages: summaryRequest(chat.model, summary, piece, COMPACTION_MAX_TOKENS).messages }, context),
    async (started) => {
      const { text, usage } = await collectText(started.events);
      earlierUsage.push(usage);
      return text;
    },
  );
  if (made.pieces === 1 && made.skipped === 0) return made.answer;
  const skipped = made.skipped === 0 ? "" : `, ${made.skipped} message(s) too long for its window left out of the summary`;
  const note = `conversation summarized in ${made.pieces} pieces to fit the summarizer's window${skipped}`;
  const meta = { ...made.answer.meta, degraded: made.answer.meta.degraded ? `${made.answer.meta.degraded}; ${note}` : note };
  return { meta, events: withEarlierUsage(made.answer.events, earlierUsage) };
}

/** The turns to summarize, and the summary tandem made earlier (given again as a compaction item), if any. */
function transcriptOf(messages: readonly Message[], instructions: string | undefined): { previous?: string; turns: Message[] } {
  let previous: string | undefined;
  const turns: Message[] = [];
  for (const message of messages) {
    if (message.role === "system") {
      if (message.content.startsWith(SUMMARY_LEAD)) previous = message.content.slice(SUMMARY_LEAD.length);
      // The request's instructions lead every turn the client sends: not part of what is summarized.
      else if (message.content !== instructions) turns.push(message);
      continue;
    }
    turns.push(message);
  }
  return previous === undefined ? { turns } : { previous, turns };
}

function compacted(
  result: ChatResult,
  meta: ResponseMeta,
  kept: StateItem[],
  through: string,
  declared: ItemSensitivity | undefined,
): Record<string, unknown> {
  const text = result.text.trim();
  if (text === "") {
    throw new GatewayError("upstream_error", `${meta.target}: the model wrote an empty summary; nothing to compact to`, {
      target: meta.target,
    });
  }
  return {
    id: makeId("resp_", 48),
    object: "response.compaction",
    created_at: Math.floor(Date.now() / 1000),
    output: [
      ...kept,
      summaryItem({
        text,
        by: meta.target,
        through,
        // Kept in a conversation, it is read where the client put it (HistorySummary.inPlace).
        inPlace: true,
        ...summaryLevel(declared, meta.sensitivity),
        // The summary may repeat content declared private: it carries that with it, as its level.
        ...(meta.declaredPrivate === true && { sensitivity: "private", declaredPrivate: true }),
      }),
    ],
    usage: renderResponsesUsage(result.usage),
  };
}

/**
 * The level a compaction carries: the history's or the client's declared one, or the one the router
 * classified the conversation at (a summary of detected private turns is private too), when above public.
 */
function summaryLevel(
  declared: ItemSensitivity | undefined,
  classified: ItemSensitivity | undefined,
): Pick<HistorySummary, "sensitivity"> {
  const level = higherSensitivity(declared, classified);
  return level === "private" || level === "internal" ? { sensitivity: level } : {};
}

/** The last piece's events, its usage counting every earlier piece's too (what the compaction cost in all). */
async function* withEarlierUsage(
  events: AsyncIterable<StreamEvent>,
  earlier: ReadonlyArray<Partial<Usage> | undefined>,
): AsyncGenerator<StreamEvent> {
  const add = (key: "inputTokens" | "outputTokens", usage: Partial<Usage>) =>
    earlier.reduce((n, u) => n + (u?.[key] ?? 0), usage[key] ?? 0);
  for await (const event of events) {
    if (event.type !== "usage") yield event;
    else
      yield {
        ...event,
        usage: { ...event.usage, inputTokens: add("inputTokens", event.usage), outputTokens: add("outputTokens", event.usage) },
      };
  }
}
