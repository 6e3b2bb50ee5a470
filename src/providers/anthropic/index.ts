export { anthropicStreamError, mapAnthropicError, mapAnthropicErrorResponse } from "./anthropic-error.js";
export { AnthropicProvider, type AnthropicProviderOptions } from "./anthropic-provider.js";
export { convertToAnthropicMessages } from "./convert-to-anthropic-messages.js";
export { convertToAnthropicRequest } from "./convert-to-anthropic-request.js";
export { parseAnthropicStream } from "./parse-anthropic-stream.js";
