import { execFile } from "node:child_process";
import { type BubblewrapFeatures, bubblewrapCommand, SYSCALL_FILTER_FD } from "./bubblewrap-args.js";
import { findExecutable } from "./find-executable.js";
import { filterArchOf } from "./syscall-filter.js";
import { syscallFilterFile } from "./syscall-filter-file.js";

/**
 * Whether this machine can run a program in a sandbox, and with which bubblewrap; `noSyscallFilter`:
 * why its sandboxes run without the syscall filter, when they do.
 */
export type SandboxAvailability =
  | { ok: true; bwrap: string; features: BubblewrapFeatures; noSyscallFilter?: string }
  | { ok: false; reason: string };

export interface CheckBubblewrapOptions {
  /** The PATH `bwrap` is looked up on (tandem's own). */
  path: string | undefined;
  /** Default process.platform. */
  platform?: NodeJS.Platform;
  /** Default process.arch: which syscall table the filter uses (x64 and arm64 have one). */
  arch?: string;
  /** Milliseconds the trial run may take. Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const HOW_TO_INSTALL =
  "install bubblewrap (Debian/Ubuntu: apt install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap; openSUSE: zypper install bubblewrap)";
const OR_UNCONFINED = "or set sandbox: false on the server to run it unconfined";

/**
 * Whether sandboxed programs can run here: Linux, `bwrap` on PATH, and a trial sandbox that starts.
 * The trial asks for everything a real one does (every namespace, no capability, no nested user
 * namespaces), and, where this bubblewrap is older or user namespaces are off, for less, in steps
 * that never give up a namespace but the user one; the first that works says the features to use.
 * Then the same with the syscall filter: kept when it works, else the sandbox runs without it, and
 * `noSyscallFilter` says why. Never throws: a failure is the reason, worded for a user (what to install or set).
 */
export async function checkBubblewrap(options: CheckBubblewrapOptions): Promise<SandboxAvailability> {
  const platform = options.platform ?? process.platform;
  if (platform !== "linux") {
    const mac =
      platform === "darwin"
        ? " (macOS's sandbox-exec is deprecated and not used: there is no sandbox for MCP servers on macOS yet)"
        : "";
    return {
      ok: false,
      reason: `sandboxed MCP servers need Linux with bubblewrap; this machine runs ${platform}${mac}: ${OR_UNCONFINED}, or run tandem on Linux`,
    };
  }
  const bwrap = await findExecutable("bwrap", options.path);
  if (bwrap === undefined) {
    return { ok: false, reason: `bubblewrap (bwrap) is not installed (not found on PATH): ${HOW_TO_INSTALL}, ${OR_UNCONFINED}` };
  }
  const attempts: BubblewrapFeatures[] = [
    { unshareUser: true, disableUserns: true },
    { unshareUser: true, disableUserns: false },
    { unshareUser: false, disableUserns: false },
  ];
  let firstFailure: string | undefined;
  for (const features of attempts) {
    const failure = await trial(bwrap, features, options);
    if (failure === undefined) return withSyscallFilter(bwrap, features, options);
    firstFailure ??= failure;
  }
  return {
    ok: false,
    reason:
      `bubblewrap (${bwrap}) cannot create a sandbox here: ${firstFailure}. Unprivileged user namespaces may be ` +
      "off (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+, an AppArmor profile for bwrap or " +
      `kernel.apparmor_restrict_unprivileged_userns=0), or tandem runs in a container that forbids them; ${OR_UNCONFINED}`,
  };
}

/** The availability with these features, and the syscall filter when this machine takes it. */
async function withSyscallFilter(
  bwrap: string,
  features: BubblewrapFeatures,
  options: CheckBubblewrapOptions,
): Promise<SandboxAvailability> {
  const arch = options.arch ?? process.arch;
  const filterArch = filterArchOf(arch);
  if (filterArch === undefined) {
    return { ok: true, bwrap, features, noSyscallFilter: `tandem has no syscall table for ${arch} (only x64 and arm64)` };
  }
  let file: string;
  try {
    file = syscallFilterFile(filterArch);
  } catch (err) {
    return { ok: true, bwrap, features, noSyscallFilter: `its file cannot be written: ${(err as Error).message}` };
  }
  const filtered = { ...features, syscallFilter: file };
  const failure = await trial(bwrap, filtered, options);
  if (failure === undefined) return { ok: true, bwrap, features: filtered };
  return { ok: true, bwrap, features, noSyscallFilter: `bubblewrap or this kernel refused it: ${failure}` };
}

/** Runs a program in a sandbox with these features: undefined when it worked, else why not (bwrap's own words). */
function trial(bwrap: string, features: BubblewrapFeatures, options: CheckBubblewrapOptions): Promise<string | undefined> {
  const args = ["--unshare-all"];
  if (features.unshareUser) args.push("--unshare-user");
  if (features.disableUserns) args.push("--disable-userns");
  args.push("--die-with-parent", "--new-session", "--cap-drop", "ALL");
  if (features.syscallFilter !== undefined) args.push("--seccomp", String(SYSCALL_FILTER_FD));
  // bwrap itself is the program run inside: it is there whatever the system (NixOS has no /usr/bin/true).
  args.push("--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", bwrap, "--version");
  const run = bubblewrapCommand(bwrap, args, features);
  return new Promise((resolve) => {
    execFile(
      run.command,
      run.args,
      {
        env: {},
        timeout: options.timeoutMs ?? 10_000,
        ...(options.signal && { signal: options.signal }),
        maxBuffer: 64 * 1024,
      },
      (err, _stdout, stderr) => {
        if (err === null) return resolve(undefined);
        const said = String(stderr)
          .split("\n")
          .map((line) => line.trim())
          .find((line) => line !== "");
        const code = (err as NodeJS.ErrnoException).code;
        resolve(
          (said ?? (typeof code === "string" ? code : err.killed ? "it did not finish in time" : `exit ${String(code)}`)).slice(
            0,
            300,
          ),
        );
      },
    );
  });
}
