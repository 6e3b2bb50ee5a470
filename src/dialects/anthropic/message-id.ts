import { makeId } from "../../core/index.js";

/** The upstream's own id when it is already an Anthropic message id, else a new one in that style. */
export function messageId(upstreamId: string | undefined): string {
  return upstreamId?.startsWith("msg_") ? upstreamId : makeId("msg_");
}
