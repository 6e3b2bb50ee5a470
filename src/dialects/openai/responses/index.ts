export { composeConversation } from "./compose-conversation.js";
export { convertItemsToMessages } from "./convert-items-to-messages.js";
export { type ParsedResponsesRequest, parseResponsesRequest, type ResponseEcho } from "./parse-responses-request.js";
export { PendingResponse } from "./pending-response.js";
export { registerResponsesRoutes } from "./register-responses-routes.js";
export { renderResponse, renderResponsesUsage } from "./render-response.js";
export { ResponseStreamRenderer } from "./response-stream-renderer.js";
export { ResponseWarnings } from "./response-warnings.js";
export { ResponsesSocketSession, type SocketTurnOutcome, type SocketTurnRunner } from "./responses-socket-session.js";
