import { estimateInputTokens, loadTokenCounter } from "../context/estimate-input-tokens.js";
import { type FitResult, fitConversation, fitConversationByModelCount } from "../context/fit-conversation.js";
import { summaryBudget, withEarlierSummary } from "../context/summarize-history.js";
import type { ChatRequest } from "../core/index.js";
import type { Target } from "./catalog.js";
import { answerRoom, mediaRulesFor, windowFor } from "./target-fit.js";

/**
 * How many input tokens `request` takes on `target` as it would be sent (Gateway.countTokens). A
 * request that may be cut (ChatRequest.fitToWindow true: the Responses API's `truncation: "auto"`)
 * is counted as the attempt fits it to the target's window: whole when it fits; else with the
 * summary stored for its older turns in their place; else cut further, and where the route's
 * summarizer would summarize that cut, with the summary's room (the most it may take) counted for it,
 * as no summary is written for a count.
 */
export async function countAsSent(
  target: Target,
  request: ChatRequest,
  summarizer: boolean,
  signal: AbortSignal,
): Promise<number> {
  const { history, ...counted } = request;
  const count = (r: ChatRequest): Promise<number> =>
    target.provider.countTokens
      ? target.provider.countTokens(target.upstreamModel, r, signal)
      : estimateInputTokens(r, mediaRulesFor(target));
  const window = windowFor(target, request);
  if (request.fitToWindow !== true || window === undefined) return count(counted);
  const estimate = await loadTokenCounter();
  // Room for the answer as the attempt keeps it (the output limit the target is really sent).
  const answer = answerRoom(target, request);
  const fitTo = (r: ChatRequest, tokens: number): Promise<FitResult> | FitResult =>
    target.provider.countTokens === undefined
      ? fitConversation(r, tokens, estimate, answer, mediaRulesFor(target))
      : fitConversationByModelCount(r, tokens, estimate, count, answer);
  const whole = await fitTo(counted, window);
  if (whole.dropped === 0) return count(counted);
  const base = history?.earlier === undefined ? counted : withEarlierSummary(counted, history.earlier);
  const fit = base === counted ? whole : await fitTo(base, window);
  if (fit.dropped === 0) return count(base);
  if (!summarizer || history === undefined) return count(fit.request);
  const room = summaryBudget(window);
  return (await count((await fitTo(base, window - room)).request)) + room;
}
