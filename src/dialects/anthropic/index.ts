export { anthropicDialect } from "./anthropic-dialect.js";
export { MessageStreamRenderer } from "./message-stream-renderer.js";
export { renderAnthropicError } from "./render-anthropic-error.js";
export {
  type AnthropicModel,
  type AnthropicModelList,
  renderAnthropicModel,
  renderAnthropicModelList,
} from "./render-anthropic-models.js";
export { renderMessage } from "./render-message.js";
