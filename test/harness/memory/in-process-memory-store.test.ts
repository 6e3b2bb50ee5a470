/** The in-process MemoryStore (servers with `store.enabled: false`) passes the shared contract suite. */
import { InProcessMemoryStore } from "../../../src/harness/memory/in-process-memory-store.js";
import { memoryStoreSuite } from "./memory-store-suite.js";

memoryStoreSuite("InProcessMemoryStore", async () => ({ store: new InProcessMemoryStore(), close: async () => {} }));
