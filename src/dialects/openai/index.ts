export { ChatCompletionStreamRenderer } from "./chat-completion-stream-renderer.js";
export { openaiDialect } from "./openai-dialect.js";
export { parseChatCompletionRequest } from "./parse-chat-completion-request.js";
export { parseCompletionRequest } from "./parse-completion-request.js";
export { parseEmbeddingRequest } from "./parse-embedding-request.js";
export { renderChatCompletion } from "./render-chat-completion.js";
export { encodeFloat32Base64, renderEmbeddings } from "./render-embeddings.js";
export { openAIErrorObject, openAIStreamErrorFrame, renderOpenAIError } from "./render-openai-error.js";
export { type OpenAIModel, renderOpenAIModel, renderOpenAIModelList } from "./render-openai-models.js";
