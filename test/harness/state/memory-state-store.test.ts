/** The in-memory StateStore (servers with `store.enabled: false`) passes the shared contract suite. */
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { stateStoreSuite } from "./state-store-suite.js";

stateStoreSuite("MemoryStateStore", async () => ({ store: new MemoryStateStore(), close: async () => {} }));
