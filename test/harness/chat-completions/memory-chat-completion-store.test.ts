import { MemoryChatCompletionStore } from "../../../src/harness/chat-completions/index.js";
import { chatCompletionStoreSuite } from "./chat-completion-store-suite.js";

chatCompletionStoreSuite("MemoryChatCompletionStore", async (retention, clock) => ({
  store: new MemoryChatCompletionStore(retention, clock),
  close: async () => {},
}));
