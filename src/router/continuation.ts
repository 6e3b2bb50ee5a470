import type { ChatRequest } from "../core/index.js";

/** What the next model is told when it has to finish an answer another model started. */
export const CONTINUE_INSTRUCTION =
  "Your previous answer was cut off. Continue it exactly where it stopped, without repeating any of it and without comment.";

/**
 * The request that lets another target continue a broken answer: the conversation, the partial
 * answer as the assistant's turn, and a short instruction to go on from there. (Anthropic could take
 * the partial answer as a prefill instead; one form keeps every provider on the same footing.)
 */
export function continuationRequest(request: ChatRequest, partial: string): ChatRequest {
  if (partial === "") return request;
  return {
    ...request,
    messages: [
      ...request.messages,
      { role: "assistant", content: [{ type: "text", text: partial }] },
      { role: "user", content: [{ type: "text", text: CONTINUE_INSTRUCTION }] },
    ],
  };
}
