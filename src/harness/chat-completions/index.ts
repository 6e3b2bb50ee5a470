export { EncryptedChatCompletionStore } from "./encrypted-chat-completion-store.js";
export { MemoryChatCompletionStore } from "./memory-chat-completion-store.js";
export { type SecondsClock, systemSeconds } from "./seconds-clock.js";
