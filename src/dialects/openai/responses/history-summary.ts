import { makeId, SUMMARY_LEAD } from "../../../core/index.js";
import type { ItemSensitivity, StateItem, StoredItem } from "../../../core/state.js";

/**
 * A summary tandem made of a stored history's older turns (a route's `summarizer`), kept as OpenAI
 * keeps compacted context: a `compaction` item (`{id, type: "compaction", encrypted_content,
 * created_by}`), stored with the turn that made it, so `input_items` and conversation items show it
 * and later turns reuse it. Its content is opaque to clients, as OpenAI's is; tandem reads it back:
 * the summary's text, the target that wrote it, the id of the last stored item it stands for, and
 * the ids of the stored items the cut kept after that one (so the cut is found again when the item it
 * stands through is deleted). OpenAI's own compaction items (encrypted by OpenAI) are not tandem's and
 * are left as they are.
 */
const MARK = "tandem-summary.v1.";

export interface HistorySummary {
  text: string;
  by: string;
  /** The id of the last item the summary stands for: it and every item before it are left out. */
  through: string;
  /**
   * The ids of the stored items between `through` and the summary itself, which the cut kept (they are
   * sent whole): where `through` was deleted since, the summary stands for the items before the first
   * of these still stored (or, none left, for every item before it). Absent in summaries made before
   * tandem kept it, and in a compaction's from POST /v1/responses/compact (which stands for all).
   */
  kept?: string[];
  /**
   * How sensitive the turns it stands for were, when above public: a compaction the client keeps
   * (POST /v1/responses/compact) and sends back as input carries its history's level with it, as a
   * stored history does (it reads as a summary, and a value declared private may be in it).
   */
  sensitivity?: Exclude<ItemSensitivity, "public">;
  /**
   * The turns it stands for held content declared private where it was kept (StoredItem.
   * declaredPrivate), which it may repeat: a turn that carries it is kept local on a redacting
   * route too. Only with `sensitivity: "private"`.
   */
  declaredPrivate?: true;
  /**
   * Made by POST /v1/responses/compact: it stands for the window it was made from, in the place the
   * client puts it (after the user messages the compaction kept), not for stored turns before it.
   * Stored in a conversation, it is read where it is, as it is when sent back as input.
   */
  inPlace?: true;
}

export function summaryItem(summary: HistorySummary): StateItem {
  const content = Buffer.from(JSON.stringify(summary)).toString("base64url");
  return { id: makeId("cmp_", 48), type: "compaction", encrypted_content: MARK + content, created_by: summary.by };
}

/** The summary a compaction item of tandem's carries; undefined for any other item. */
export function readSummary(item: StateItem): HistorySummary | undefined {
  if (item.type !== "compaction" || typeof item.encrypted_content !== "string" || !item.encrypted_content.startsWith(MARK)) {
    return undefined;
  }
  try {
    const parsed = JSON.parse(
      Buffer.from(item.encrypted_content.slice(MARK.length), "base64url").toString(),
    ) as Partial<HistorySummary>;
    if (typeof parsed.text !== "string" || typeof parsed.through !== "string") return undefined;
    const summary: HistorySummary = { text: parsed.text, by: String(parsed.by ?? ""), through: parsed.through };
    if (Array.isArray(parsed.kept)) summary.kept = parsed.kept.filter((id): id is string => typeof id === "string");
    // Only a level that raises the turn counts (a client can send any content: it can never lower one).
    if (parsed.sensitivity === "private" || parsed.sensitivity === "internal") summary.sensitivity = parsed.sensitivity;
    if (parsed.sensitivity === "private" && parsed.declaredPrivate === true) summary.declaredPrivate = true;
    if (parsed.inPlace === true) summary.inPlace = true;
    return summary;
  } catch {
    return undefined;
  }
}

/** What a target is given for a summary: a developer message any target (and any wire) reads. */
export function summaryMessageItem(item: StateItem, text: string): StateItem {
  return {
    id: item.id,
    type: "message",
    role: "developer",
    status: "completed",
    content: [{ type: "input_text", text: SUMMARY_LEAD + text }],
  };
}

/** The newest summary tandem stored in a history, and the stored items it stands for. */
export interface StoredSummary {
  text: string;
  by: string;
  /** How many of the first items of StoredSummaries.items it stands for (at least one). */
  covers: number;
  /** The compaction item it came in, as stored. */
  stored: StoredItem;
}

export interface StoredSummaries {
  /**
   * The history without the compaction items of tandem's summarizer: every stored turn, sent whole
   * where it fits (a compaction from POST /v1/responses/compact among them, read in its place).
   */
  items: StoredItem[];
  /** The newest summary, when there is one that stands for items still stored. */
  summary?: StoredSummary;
  /** Why the newest summary cannot be used (where it stands to was deleted and it does not say more). */
  unusable?: string;
}

/**
 * A stored history as tandem reads it: its items without tandem's summaries, and the newest summary
 * with how many of those items it stands for. The summary is not put in their place here: a target
 * is given it only when the conversation must be cut for its window (truncation "auto"); with the
 * window to hold it, or truncation "disabled", every stored item is sent. Deleting an item changes
 * only that item: when the one the summary stands through is gone, its place is found by the items
 * the cut kept after it, so no turn it does not stand for is ever left out in its name.
 */
export function readStoredSummaries(history: readonly StoredItem[]): StoredSummaries {
  const standsFor = (s: StoredItem) => {
    const summary = readSummary(s.item);
    return summary !== undefined && summary.inPlace !== true;
  };
  let at = -1;
  for (let i = history.length - 1; i >= 0; i--) {
    if (standsFor(history[i] as StoredItem)) {
      at = i;
      break;
    }
  }
  const items = history.filter((s) => !standsFor(s));
  if (at < 0) return { items };
  const newest = history[at] as StoredItem;
  const summary = readSummary(newest.item) as HistorySummary;
  let end = history.findIndex((s) => s.item.id === summary.through) + 1;
  if (end === 0) {
    // It stood through an item deleted since: up to the first item the cut kept, else up to itself.
    if (summary.kept === undefined) return { items, unusable: "the item it stands through was deleted" };
    const kept = new Set(summary.kept);
    const first = history.findIndex((s, i) => i < at && kept.has(s.item.id));
    end = first >= 0 ? first : at;
  }
  const covers = history.slice(0, end).filter((s) => !standsFor(s)).length;
  if (covers === 0) return { items };
  return { items, summary: { text: summary.text, by: summary.by, covers, stored: newest } };
}
