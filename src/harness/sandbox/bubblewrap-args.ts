import type { SandboxPlan } from "./sandbox-plan.js";

/** What the bubblewrap found on this machine accepts (see checkBubblewrap). */
export interface BubblewrapFeatures {
  /** `--unshare-user` works (unprivileged user namespaces, or root): the program gets no capability. */
  unshareUser: boolean;
  /** `--disable-userns` is known (bubblewrap 0.8+): the program cannot make user namespaces of its own. */
  disableUserns: boolean;
  /**
   * The file of the syscall filter (syscallFilterFile) that bubblewrap and the kernel accept here
   * (`--seccomp`), or undefined: none for this architecture, or this kernel has no seccomp filters.
   */
  syscallFilter?: string;
}

/** The descriptor bubblewrap reads the syscall filter from (`--seccomp 3`); bubblewrapCommand opens it. */
export const SYSCALL_FILTER_FD = 3;

/**
 * bubblewrap's arguments for the plan, up to and including the program and its arguments. Every
 * namespace is new (the network too, unless the plan shares it), the program is in a new session (so
 * it cannot push input to tandem's terminal), dies with tandem, has no capability and, where this
 * machine allows it, runs under the syscall filter; its root holds only a fresh /proc, /dev and /tmp
 * and the plan's mounts. No environment value is passed here (argv is visible to other users in
 * /proc): the environment is the process's own. Run with bubblewrapCommand.
 */
export function bubblewrapArgs(plan: SandboxPlan, features: BubblewrapFeatures): string[] {
  const args = ["--unshare-all"];
  if (features.unshareUser) args.push("--unshare-user");
  if (features.unshareUser && features.disableUserns) args.push("--disable-userns");
  if (plan.network) args.push("--share-net");
  args.push("--die-with-parent", "--new-session", "--cap-drop", "ALL");
  if (features.syscallFilter !== undefined) args.push("--seccomp", String(SYSCALL_FILTER_FD));
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  for (const mount of plan.mounts) {
    if (mount.kind === "tmpfs") args.push("--tmpfs", mount.dest);
    else if (mount.kind === "symlink") args.push("--symlink", mount.target, mount.dest);
    else args.push(`--${mount.kind}`, mount.source, mount.dest);
  }
  args.push("--chdir", plan.cwd, "--", plan.command, ...plan.args);
  return args;
}

/**
 * The command that runs bwrap with these arguments: bwrap itself, or, with a syscall filter, bwrap
 * started by /bin/sh with the filter's file open as descriptor 3 (a program started by the MCP SDK gets
 * only stdin, stdout and stderr, so the shell opens it and then becomes bwrap). When the file cannot be
 * opened the shell exits 126 and nothing runs: a filter is never dropped on the way.
 */
export function bubblewrapCommand(
  bwrap: string,
  args: string[],
  features: BubblewrapFeatures,
): { command: string; args: string[] } {
  if (features.syscallFilter === undefined) return { command: bwrap, args };
  return {
    command: "/bin/sh",
    args: [
      "-c",
      `exec ${SYSCALL_FILTER_FD}<"$1" || exit 126; shift; exec "$@"`,
      "tandem-sandbox",
      features.syscallFilter,
      bwrap,
      ...args,
    ],
  };
}
