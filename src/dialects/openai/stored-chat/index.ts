export { registerStoredChatRoutes } from "./register-stored-chat-routes.js";
export { storedChatMetadata } from "./stored-chat-metadata.js";
export { storedChatRendering } from "./stored-chat-rendering.js";
