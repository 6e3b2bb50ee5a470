import { MemoryBatchStore } from "../../../src/harness/batches/memory-batch-store.js";
import { batchStoreSuite } from "./batch-store-suite.js";

batchStoreSuite("MemoryBatchStore", async () => ({ store: new MemoryBatchStore(), close: async () => {} }));
