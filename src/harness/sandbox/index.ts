export { type BubblewrapFeatures, bubblewrapArgs, bubblewrapCommand } from "./bubblewrap-args.js";
export { type CheckBubblewrapOptions, checkBubblewrap, type SandboxAvailability } from "./check-bubblewrap.js";
export { findExecutable } from "./find-executable.js";
export { planSandbox, type SandboxRequest } from "./plan-sandbox.js";
export { type ProcessLimitSupport, processLimitSupport, withProcessLimit } from "./process-limit.js";
export { SandboxError } from "./sandbox-error.js";
export type { SandboxMount, SandboxPlan } from "./sandbox-plan.js";
export { restoreSyscallFilterFile } from "./syscall-filter-file.js";
