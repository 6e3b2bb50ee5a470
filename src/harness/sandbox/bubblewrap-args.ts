import type { SandboxPlan } from "./sandbox-plan.js";

/** What the bubblewrap found on this machine accepts (see checkBubblewrap). */
export interface BubblewrapFeatures {
  /** `--unshare-user` works (unprivileged user namespaces, or root): the program gets no capability. */
  unshareUser: boolean;
  /** `--disable-userns` is known (bubblewrap 0.8+): the program cannot make user namespaces of its own. */
  disableUserns: boolean;
}

/**
 * bubblewrap's arguments for the plan, up to and including the program and its arguments. Every
 * namespace is new (the network too, unless the plan shares it), the program is in a new session (so
 * it cannot push input to tandem's terminal), dies with tandem, and has no capability; its root holds
 * only a fresh /proc, /dev and /tmp and the plan's mounts. No environment value is passed here (argv
 * is visible to other users in /proc): the environment is the process's own.
 */
export function bubblewrapArgs(plan: SandboxPlan, features: BubblewrapFeatures): string[] {
  const args = ["--unshare-all"];
  if (features.unshareUser) args.push("--unshare-user");
  if (features.unshareUser && features.disableUserns) args.push("--disable-userns");
  if (plan.network) args.push("--share-net");
  args.push("--die-with-parent", "--new-session", "--cap-drop", "ALL");
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  for (const mount of plan.mounts) {
    if (mount.kind === "tmpfs") args.push("--tmpfs", mount.dest);
    else if (mount.kind === "symlink") args.push("--symlink", mount.target, mount.dest);
    else args.push(`--${mount.kind}`, mount.source, mount.dest);
  }
  args.push("--chdir", plan.cwd, "--", plan.command, ...plan.args);
  return args;
}
