import { makeId } from "../../core/index.js";

/** The upstream's own id when it is already an Anthropic message id, else a new one in that style. */
export function messageId(upstreamId: string | undefined): string {
  return upstreamId?.startsWith("msg_") ? upstreamId : makeId("msg_");
}

/** Anthropic clients echo tool_use ids back in tool_result, so an upstream's id is kept as is. */
export function toolUseId(upstreamId: string): string {
  return upstreamId === "" ? makeId("toolu_") : upstreamId;
}
