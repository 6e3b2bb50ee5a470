/**
 * What a sandbox holds, as bubblewrap is told to build it: the mounts over an empty root, in order
 * (a later mount wins over an earlier one at or above its path), the program and its directory.
 */
export type SandboxMount =
  /** `source` (a real path of this machine) seen at `dest`, read-only (`ro-bind`) or writable (`bind`). */
  | { kind: "ro-bind" | "bind"; source: string; dest: string }
  /** A symlink at `dest` pointing to `target`. */
  | { kind: "symlink"; target: string; dest: string }
  /** An empty, private, writable folder at `dest` (gone when the program exits). */
  | { kind: "tmpfs"; dest: string };

export interface SandboxPlan {
  /** The program, at the path it is run by inside (absolute). */
  command: string;
  /** Its arguments, as configured. */
  args: readonly string[];
  /** Its working directory inside. */
  cwd: string;
  /** Whether it shares the machine's network; otherwise it has its own, with only a loopback of its own. */
  network: boolean;
  /** The mounts after the fixed base (a fresh /proc, /dev and /tmp), in order. */
  mounts: SandboxMount[];
}
