import { makeId, SUMMARY_LEAD } from "../../../core/index.js";
import type { ItemSensitivity, StateItem, StoredItem } from "../../../core/state.js";

/**
 * A summary tandem made of a stored history's older turns (a route's `summarizer`), kept as OpenAI
 * keeps compacted context: a `compaction` item (`{id, type: "compaction", encrypted_content,
 * created_by}`), stored with the turn that made it, so `input_items` and conversation items show it
 * and later turns reuse it. Its content is opaque to clients, as OpenAI's is; tandem reads it back:
 * the summary's text, the target that wrote it, and the id of the last stored item it stands for.
 * OpenAI's own compaction items (encrypted by OpenAI) are not tandem's and are left as they are.
 */
const MARK = "tandem-summary.v1.";

export interface HistorySummary {
  text: string;
  by: string;
  /** The id of the last item the summary stands for: it and every item before it are left out. */
  through: string;
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
    // Only a level that raises the turn counts (a client can send any content: it can never lower one).
    if (parsed.sensitivity === "private" || parsed.sensitivity === "internal") summary.sensitivity = parsed.sensitivity;
    if (parsed.sensitivity === "private" && parsed.declaredPrivate === true) summary.declaredPrivate = true;
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

/**
 * A stored history as a target is given it: when tandem summarized part of it, the newest summary
 * (as a developer message) in place of every item it stands for, and no other summary of tandem's.
 * `summary` is the index of that message in `items`, when there is one.
 */
export function applyStoredSummary(history: StoredItem[]): { items: StoredItem[]; summary?: number } {
  let at = -1;
  for (let i = history.length - 1; i >= 0; i--) {
    if (readSummary((history[i] as StoredItem).item) !== undefined) {
      at = i;
      break;
    }
  }
  if (at < 0) return { items: history };
  const newest = history[at] as StoredItem;
  const summary = readSummary(newest.item) as HistorySummary;
  const through = history.findIndex((s) => s.item.id === summary.through);
  // An item it stood for was deleted since: it still stands for everything before it.
  const from = through >= 0 ? through + 1 : at;
  const rest = history.slice(from).filter((s) => readSummary(s.item) === undefined);
  return { items: [{ ...newest, item: summaryMessageItem(newest.item, summary.text) }, ...rest], summary: 0 };
}
