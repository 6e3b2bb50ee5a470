import { makeId } from "../../core/index.js";

/** The upstream's own id when it is already an Anthropic message id, else a new one in that style. */
export function messageId(upstreamId: string | undefined): string {
  return upstreamId?.startsWith("msg_") ? upstreamId : makeId("msg_");
}

const TOOL_USE = "toolu_";

/**
 * A tool call's id as Anthropic writes one (`toolu_…`): another upstream's id (`call_…`) behind the
 * prefix, so that toolCallId() gives it back whole when the client answers the call.
 */
export function toolUseId(upstreamId: string): string {
  if (upstreamId === "") return makeId(TOOL_USE);
  return upstreamId.startsWith(TOOL_USE) ? upstreamId : `${TOOL_USE}${upstreamId}`;
}

/**
 * The id a client's tool_use / tool_result names, as the canonical request carries it: without the
 * `toolu_` prefix, so an upstream is asked about its own call ids (both ends of a call lose the same
 * prefix, so an Anthropic-made id still pairs its call with its result).
 */
export function toolCallId(clientId: string): string {
  return clientId.startsWith(TOOL_USE) && clientId.length > TOOL_USE.length ? clientId.slice(TOOL_USE.length) : clientId;
}
