/** What the stored-response and Conversations routes share: errors in OpenAI's shape, paging, items, metadata. */

export { ConversationTurns, TurnHold } from "./conversation-turns.js";
export { duplicateItemId, duplicateItemMessage } from "./duplicate-items.js";
export {
  type InputEntry,
  itemId,
  type NormalizeOptions,
  normalizeInputEntries,
  normalizeInputEntry,
  normalizeInputItem,
  normalizeInputItems,
} from "./normalize-input-items.js";
export { type ListQuery, parseInclude, parseListQuery, parsePaging, single } from "./parse-list-query.js";
export { parseBoundedObject, parseMetadata, typeOf } from "./parse-metadata.js";
export { type ItemList, type OpenAIList, renderItemList, renderList, renderStoredItem } from "./render-item-list.js";
export { type McpToolCallError, renderMcpCallError, renderStoredMcpCall } from "./render-mcp-call-error.js";
export { type DiscardableResponse, ResponsesInFlight } from "./responses-in-flight.js";
export { cursorChecked, invalidParam, notFound, refuseUnknownFields, StateApiError, stateRoute } from "./state-api-error.js";
export { declaredFileSensitivity, stateSensitivity, withDeclaredSensitivity } from "./state-sensitivity.js";
export {
  keepsAnthropicThinking,
  redactedReasoningItem,
  redactedThinking,
  signedReasoningItem,
  signedWholeReasoning,
  thinkingSignature,
  withoutThinkingSignature,
  withSealedReasoningShown,
} from "./thinking-signature.js";
