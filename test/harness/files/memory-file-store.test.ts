import { MemoryFileStore } from "../../../src/harness/files/memory-file-store.js";
import { fileStoreSuite } from "./file-store-suite.js";

fileStoreSuite("MemoryFileStore", async (clock) => ({ store: new MemoryFileStore(clock), close: async () => {} }));
