export type { EngineState } from "./engine-process.js";
export type { EngineGpu, LoadedModelInfo } from "./engine-protocol.js";
export { LlamaCppProvider, type LlamaCppProviderOptions, type LoadedModelStatus } from "./llamacpp-provider.js";
export type { SlotLoad } from "./slot-queue.js";
