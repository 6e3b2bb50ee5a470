import { realpath } from "node:fs/promises";
import type { BubblewrapFeatures } from "./bubblewrap-args.js";
import { findExecutable } from "./find-executable.js";
import type { SandboxPlan } from "./sandbox-plan.js";
import { isSystemPath } from "./system-mounts.js";

/**
 * Whether a sandbox's number of processes can be bounded here, and with which `prlimit`.
 *
 * The bound is Linux's RLIMIT_NPROC, set inside the sandbox. Outside a user namespace of its own that
 * limit counts every process of the user (a desktop session's hundreds), so it would be no bound on the
 * sandbox and would break it at once. Inside one (bubblewrap's `--unshare-user`), the kernel (5.14+)
 * counts the processes of that namespace alone, threads included. The kernel never applies the limit
 * to the real root user, so under root there is nothing to set.
 */
export type ProcessLimitSupport = { ok: true; prlimit: string } | { ok: false; reason: string };

export interface ProcessLimitOptions {
  /** The PATH util-linux's `prlimit` is looked up on (tandem's own). */
  path: string | undefined;
  /** Default process.getuid(): the user tandem, and so every sandbox it starts, runs as. */
  uid?: number;
}

export async function processLimitSupport(
  features: BubblewrapFeatures,
  options: ProcessLimitOptions,
): Promise<ProcessLimitSupport> {
  if (!features.unshareUser) {
    return {
      ok: false,
      reason:
        "this machine's bubblewrap cannot give a sandbox a user namespace of its own, the only place where the kernel counts a sandbox's processes apart from the user's others",
    };
  }
  const uid = options.uid ?? process.getuid?.();
  if (uid === 0) return { ok: false, reason: "tandem runs as root, whose processes the kernel does not limit" };
  const found = await findExecutable("prlimit", options.path);
  // Run inside the sandbox, so it must be where every sandbox can read it: the system's program folders.
  const real = found === undefined ? undefined : await realpath(found).catch(() => undefined);
  if (found === undefined || real === undefined || !isSystemPath(found) || !isSystemPath(real)) {
    return { ok: false, reason: "util-linux's prlimit is not found in the system's program folders (/usr/bin)" };
  }
  return { ok: true, prlimit: found };
}

/**
 * The plan with its program started under `prlimit --nproc`: the limit is set inside the sandbox's
 * user namespace, before the program runs, and every process it starts inherits it. A fork past it
 * fails (EAGAIN); the processes already running go on.
 */
export function withProcessLimit(plan: SandboxPlan, maxProcesses: number, prlimit: string): SandboxPlan {
  return {
    ...plan,
    command: prlimit,
    args: [`--nproc=${maxProcesses}:${maxProcesses}`, "--", plan.command, ...plan.args],
  };
}
