import {
  type EarlierSummary,
  GatewayError,
  type Message,
  type StoredHistory,
  SUMMARY_LEAD,
  type SystemMessage,
} from "../../../core/index.js";
import type { ItemSensitivity, StateItem, StateStore, StoredItem } from "../../../core/state.js";
import { canFindItems } from "../../../core/state-item-finder.js";
import { type FilesService, headerSafe } from "../../shared/index.js";
import { FileResolver } from "../files/file-resolver.js";
import { duplicateItemId, duplicateItemMessage } from "../state/index.js";
import { countUnreadParts } from "./check-carried-part.js";
import { checkToolHistory, pairOutputsByName } from "./check-tool-history.js";
import { applyConfigurationUpdates } from "./configuration-updates.js";
import { convertItemsToMessages, convertsItem } from "./convert-items-to-messages.js";
import { readStoredSummaries, readSummary, type StoredSummary, summaryItem, summaryMessageItem } from "./history-summary.js";
import { resolveItemFiles, withStoredFilesInline } from "./item-files.js";
import type { ParsedResponsesRequest } from "./parse-responses-request.js";
import type { InputRecord } from "./pending-response.js";

/** How ChatRequest.declaredPrivate names stored items marked declared private (StoredItem.declaredPrivate). */
const DECLARED_ITEMS = "stored items that carry it";

export interface ComposedConversation {
  /** What the target is sent: the instructions, every earlier turn, then the new input. */
  messages: Message[];
  /** The new input items, references resolved (what the response stores as its input). */
  input: InputRecord[];
  /**
   * Every item the target is given, in order: the earlier turns, then the new input, each with the
   * target that made it where only that upstream can read it, and a new input item with the object
   * the client sent (a native Responses upstream gets these).
   */
  items: Array<{ item: StateItem; origin?: string; sent?: Record<string, unknown> }>;
  /**
   * `items` as a Responses-native upstream is sent them: parts by a file_id of tandem's Files API
   * given as the file itself, since the upstream does not know tandem's ids (item-files.ts).
   */
  nativeItems: Array<{ item: StateItem; origin?: string; sent?: Record<string, unknown> }>;
  /**
   * How many parts of the stored items this request sends again (its history as shown, the items it
   * references) carry bytes inline that classification cannot read (NativeRequest.unread).
   */
  storedUnread: number;
  /**
   * For a request in a conversation: the id of the conversation's last item, so the response's
   * input items can list the conversation as it stood (StoredResponse.conversationThrough).
   */
  conversationThrough?: string;
  /**
   * The most sensitive level among the earlier turns, referenced items and the stored files they
   * name (declared at upload); undefined when all are public.
   */
  historySensitivity: ItemSensitivity | undefined;
  /**
   * What the earlier turns, referenced items and the stored files they name hold that was declared
   * private where it was kept (ChatRequest.declaredPrivate): a file uploaded as private, items
   * marked so (StoredItem.declaredPrivate); empty when none.
   */
  declaredPrivate: string[];
  /**
   * The summary tandem stored for the history's older turns, when there is one, with the messages of
   * `messages` it stands for: `messages` hold every stored turn, and the summary goes in their place
   * only where the conversation must be cut (the router's fitting, or a compaction).
   */
  earlier?: EarlierSummary;
  /**
   * For the router, when there is stored history: the summary standing for its older turns, and
   * where a new summary goes (`keep` calls `onSummary` with the compaction item to store with the turn).
   */
  history?: (onSummary: (item: StateItem, target: string) => void) => StoredHistory;
}

/**
 * Puts a request's conversation together from the state tandem keeps: the history of
 * `previous_response_id` (its whole chain) or of `conversation`, then the new input, with item
 * references resolved from that history or, where the store can, from any stored item. `instructions` lead as the system message; they are this
 * request's own, never carried over from the previous response (as OpenAI documents). An unknown
 * previous response (a 400) or conversation (a 404) is refused in OpenAI's words and statuses.
 */
export async function composeConversation(
  request: ParsedResponsesRequest,
  state: StateStore,
  files?: FilesService,
  signal?: AbortSignal,
): Promise<ComposedConversation> {
  let history: StoredItem[] = [];
  if (request.previousResponseId !== undefined) {
    const found = await state.responseHistory(request.previousResponseId);
    if (!found) {
      // A 400, as api.openai.com answers it (the SDKs' BadRequestError), though an unknown conversation is a 404.
      throw new GatewayError("invalid_request", `Previous response with id '${request.previousResponseId}' not found.`, {
        param: "previous_response_id",
        reason: "previous_response_not_found",
      });
    }
    history = found;
  } else if (request.conversationId !== undefined) {
    const found = await state.conversationItems(request.conversationId);
    if (!found) {
      throw new GatewayError("not_found", `Conversation with id '${request.conversationId}' not found.`, {
        param: "conversation",
        reason: "conversation_not_found",
      });
    }
    history = found;
  }
  // A compaction a client stored (in a conversation) is as sensitive as the history it stands for,
  // as one sent back as input is.
  history = history.map(withSummaryLevel);

  const byId = new Map<string, StoredItem>();
  for (const stored of history) byId.set(stored.item.id, stored);
  const input: InputRecord[] = [];
  for (const entry of request.input) {
    if (entry.kind === "item") {
      const record: InputRecord = entry.sent === undefined ? { item: entry.item } : { item: entry.item, sent: entry.sent };
      // A compaction the client kept is as sensitive as the history it stands for.
      const summary = readSummary(entry.item);
      const level = summary?.sensitivity;
      input.push(
        level === undefined
          ? record
          : { ...record, sensitivity: level, ...(summary?.declaredPrivate === true && { declaredPrivate: true as const }) },
      );
      continue;
    }
    // From the history this request continues, else (as OpenAI does) from anything stored.
    const stored = byId.get(entry.id) ?? (canFindItems(state) ? await state.findItem(entry.id) : undefined);
    if (!stored) {
      throw new GatewayError("not_found", `Item with id '${entry.id}' not found.`, {
        param: entry.param,
        reason: "item_not_found",
      });
    }
    input.push({
      item: stored.item,
      referenced: true,
      ...(stored.sensitivity !== undefined && { sensitivity: stored.sensitivity }),
      ...(stored.declaredPrivate === true && { declaredPrivate: true as const }),
    });
  }

  const duplicate = duplicateItemId(
    input.map((record) => record.item.id),
    (id) => byId.has(id),
  );
  if (duplicate !== undefined) throw new GatewayError("invalid_request", duplicateItemMessage(duplicate), { param: "input" });
  // Outputs that name their tool rather than their call get its call_id, before anything pairs them.
  const paired = pairOutputsByName<StoredItem | InputRecord>([...history, ...input]);
  history = paired.slice(0, history.length) as StoredItem[];
  input.splice(0, input.length, ...(paired.slice(history.length) as InputRecord[]));
  // Every item, summarized ones too: a summary may stand for a call whose output is still kept.
  checkToolHistory([...history, ...input].map((s) => s.item));
  applyConfigurationUpdates(
    [...history, ...input].map((s) => s.item),
    request.chat,
  );

  const warnings = request.warnings;
  const messages: Message[] = [];
  if (request.instructions !== undefined && request.instructions !== "") {
    messages.push({ role: "system", content: request.instructions });
  }
  // Every stored turn, tandem's summaries aside: the newest stands in for the turns it covers only
  // where the conversation is cut (the router's fitting), so a window that holds them gets them all.
  const shown = readStoredSummaries(history);
  const readable = (s: StoredItem | InputRecord): StateItem => {
    const summary = readSummary(s.item);
    return summary === undefined ? s.item : summaryMessageItem(s.item, summary.text);
  };
  const items = [...shown.items, ...input].map((s) => {
    const item = readable(s);
    if (item === s.item) return s;
    // A summary stands in for the item: what the client sent is not what goes.
    const { sent: _sent, ...rest } = s as InputRecord;
    return { ...rest, item };
  });
  // The files the conversation names, stored or sent inline, read once for this turn (a file
  // deleted since an earlier turn is left out of it, named in the warnings).
  const resolver = new FileResolver(files, signal);
  resolveItemFiles(
    items.map((s) => s.item),
    resolver,
  );
  await resolver.settle();
  const nativeItems = items.map((s) => {
    const item = withStoredFilesInline(s.item, resolver);
    const sent = (s as InputRecord).sent;
    const sentInline = sent === undefined ? undefined : withStoredFilesInline(sent, resolver);
    if (item === s.item && sentInline === sent) return s;
    return { ...s, item, ...(sentInline !== undefined && { sent: sentInline }) };
  });
  // A part by a file_id tandem has crosses to every target: it is not the upstream's id after all.
  for (const [entry, id] of request.fileReferences) {
    if (resolver.storedFile(id) === undefined) continue;
    const at = request.wireOnly.indexOf(entry);
    if (at >= 0) request.wireOnly.splice(at, 1);
  }
  const storedUnread = countUnreadParts([...shown.items, ...input.filter((s) => s.referenced === true)].map((s) => s.item));
  const sources = new Map<Message, number>();
  messages.push(
    ...convertItemsToMessages(
      items.map((s) => s.item),
      warnings,
      sources,
      resolver,
      items.map((s) => (s as StoredItem).origin),
      shown.items.length,
    ),
  );
  // Nothing a canonical request carries: the items of the new input that only a Responses-native
  // target takes go to such a target as they are, or get a 400 naming the first (target-fit.ts), not
  // "missing input" for an input that is there.
  if (!messages.some((m) => m.role !== "system")) {
    request.input.forEach((entry, i) => {
      if (entry.kind === "item" && !convertsItem(entry.item))
        request.wireOnly.push({ param: `input[${i}]`, what: `an input item of type '${headerSafe(entry.item.type)}'` });
    });
  }
  // Only a stored prompt, for a Responses-native target (its template holds the conversation).
  if (!messages.some((m) => m.role !== "system") && request.wireOnly.length === 0) {
    throw new GatewayError("invalid_request", "Missing required parameter: 'input'.", {
      param: "input",
      reason: "missing_required_parameter",
    });
  }

  // A stored file uploaded with a declared level (in this turn's input or an earlier one) makes the
  // turn at least that sensitive, as a private stored turn does.
  let historySensitivity = resolver.declaredSensitivity() as ItemSensitivity | undefined;
  for (const stored of [...history, ...input]) {
    if (stored.sensitivity === "private") historySensitivity = "private";
    else if (stored.sensitivity === "internal" && historySensitivity === undefined) historySensitivity = "internal";
  }
  // What was declared private where it was kept cannot be redacted: a redacting route keeps the turn local.
  const declaredPrivate = resolver.declaredPrivate() ?? [];
  if ([...history, ...input].some((stored) => stored.declaredPrivate === true)) declaredPrivate.push(DECLARED_ITEMS);
  if (history.length === 0) return { messages, input, items, nativeItems, storedUnread, historySensitivity, declaredPrivate };
  const conversationThrough = request.conversationId === undefined ? undefined : history.at(-1)?.item.id;
  const earlier = earlierSummary(shown.summary, messages, sources);
  const composedHistory = (onSummary: (item: StateItem, target: string) => void): StoredHistory => ({
    ...(earlier !== undefined && { earlier }),
    ...(shown.unusable !== undefined && { unusable: `stored summary not used: ${shown.unusable}` }),
    keep(text, dropped, by, target) {
      let last = -1;
      for (const message of dropped) last = Math.max(last, sources.get(message) ?? -1);
      // The turns it stands for: the earlier summary's too, when the cut left out only those.
      if (earlier !== undefined) last = Math.max(last, (shown.summary?.covers ?? 0) - 1);
      const through = items[last]?.item.id;
      if (through === undefined) return;
      // The stored turns after it that the cut kept: where `through` is deleted later, they say where it ended.
      const kept = items.slice(last + 1, shown.items.length).map((s) => s.item.id);
      // It carries the history's level, for a client that reads it back and sends it as input.
      onSummary(
        summaryItem({
          text,
          by,
          through,
          kept,
          ...(historySensitivity !== undefined && historySensitivity !== "public" && { sensitivity: historySensitivity }),
          ...(declaredPrivate.length > 0 && { declaredPrivate: true }),
        }),
        target,
      );
    },
  });
  return {
    messages,
    input,
    items,
    nativeItems,
    storedUnread,
    historySensitivity,
    declaredPrivate,
    history: composedHistory,
    ...(earlier !== undefined && { earlier }),
    ...(conversationThrough !== undefined && { conversationThrough }),
  };
}

/**
 * The stored summary as the message that stands for the messages of the turns it covers (each
 * message by the item it came from); undefined when none of them became a message.
 */
function earlierSummary(
  summary: StoredSummary | undefined,
  messages: readonly Message[],
  sources: ReadonlyMap<Message, number>,
): EarlierSummary | undefined {
  if (summary === undefined) return undefined;
  const replaces = messages.filter((m) => {
    const source = sources.get(m);
    return source !== undefined && source >= 0 && source < summary.covers;
  });
  if (replaces.length === 0) return undefined;
  const message: SystemMessage = { role: "system", content: SUMMARY_LEAD + summary.text };
  return { message, replaces, by: summary.by };
}

/** A stored item raised to the level of the summary it carries, when it is a compaction of tandem's that carries one. */
function withSummaryLevel(stored: StoredItem): StoredItem {
  const summary = readSummary(stored.item);
  if (summary?.sensitivity === undefined) return stored;
  const sensitivity = stored.sensitivity === "private" || summary.sensitivity === "private" ? "private" : "internal";
  const declaredPrivate = stored.declaredPrivate === true || summary.declaredPrivate === true;
  return { ...stored, sensitivity, ...(declaredPrivate && { declaredPrivate: true as const }) };
}
