import type { Message, SystemMessage } from "./messages.js";

/**
 * A conversation's stored history as the router sees it when it must cut the conversation to fit a
 * target's window: the summary tandem stored for its older turns (given in their place only then),
 * and where a new summary is kept (when the route names a summarizer) so that later turns reuse it
 * instead of summarizing the same turns again.
 */
export interface StoredHistory {
  /**
   * The summary stored for the history's older turns, when there is one: not among the request's
   * messages, which hold every stored turn. A target is given it in place of the turns it stands
   * for only when the whole conversation does not fit its window and may be cut (truncation "auto").
   */
  readonly earlier?: EarlierSummary;
  /** Why the history's stored summary cannot be used (the item it stands through was deleted), said where a cut is made. */
  readonly unusable?: string;
  /**
   * Keeps `text` as the summary of `dropped` (messages of the request, in order, that the cut left
   * out) and of the earlier summary, made for `target`'s window. Stored with the turn only when
   * `target` is the one that answers (a target tried after it may have needed no cut, or another).
   */
  keep(text: string, dropped: readonly Message[], by: string, target: string): void;
}

/** A summary tandem stored earlier, as the message that stands for some of a request's messages. */
export interface EarlierSummary {
  /** The summary as a target is given it (SUMMARY_LEAD, then its text). */
  readonly message: SystemMessage;
  /** The request's messages it stands for, the oldest turns after the leading system messages. */
  readonly replaces: readonly Message[];
  /** The target that wrote it. */
  readonly by: string;
}

/** How a stored summary is introduced to a model, wherever it stands in for the turns it summarizes. */
export const SUMMARY_LEAD =
  "Summary of the earlier part of this conversation (its older turns were left out to fit the context window):\n";
