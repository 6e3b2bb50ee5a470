import type { Message, SystemMessage } from "./messages.js";

/**
 * A conversation's stored history as the router sees it when it must cut the conversation to fit a
 * target's window and the route names a summarizer: the summary standing for an earlier cut (to be
 * folded into the new one and replaced by it), and where a new summary is kept so that later turns
 * reuse it instead of summarizing the same turns again.
 */
export interface StoredHistory {
  /** The message of `messages` that carries the summary of an earlier cut, if there is one. */
  readonly summary?: SystemMessage;
  /**
   * Keeps `text` as the summary of `dropped` (messages of the request, in order, that the cut left
   * out) and of the earlier summary, made for `target`'s window. Stored with the turn only when
   * `target` is the one that answers (a target tried after it may have needed no cut, or another).
   */
  keep(text: string, dropped: readonly Message[], by: string, target: string): void;
}

/** How a stored summary is introduced to a model, wherever it stands in for the turns it summarizes. */
export const SUMMARY_LEAD =
  "Summary of the earlier part of this conversation (its older turns were left out to fit the context window):\n";
