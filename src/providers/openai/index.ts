export { convertToOpenAIChatRequest, type MaxTokensField } from "./convert-to-openai-chat-request.js";
export { convertToOpenAIMessages } from "./convert-to-openai-messages.js";
export { mapOpenAIError, mapOpenAIErrorResponse } from "./map-openai-error.js";
export { gatewayErrorFromOpenAIError } from "./openai-error-body.js";
export { OpenAIProvider, type OpenAIProviderOptions } from "./openai-provider.js";
export { readOpenAIChatStream } from "./read-openai-chat-stream.js";
