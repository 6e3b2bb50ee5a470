import type { ChatStream, Gateway, RequestContext } from "./gateway.js";
import type { HostedToolsRequest } from "./hosted-tools.js";
import type { ChatRequest } from "./request.js";

/**
 * Runs a chat with hosted tools: the model is offered the servers' tools beside the client's own,
 * and each call it makes to one is run (or put to the client for approval) between its turns, until
 * it answers, calls a tool of the client's, or asks for an approval. One answer for the client: the
 * first turn's meta, the turns' events in order with `hosted-tool` items between them, usage summed,
 * one `finish`. Implemented by the harness (harness/tools/tool-loop.ts).
 */
export interface HostedToolRunner {
  chat(gateway: Gateway, request: ChatRequest, tools: HostedToolsRequest, context: RequestContext): Promise<ChatStream>;
}
