/**
 * Why a sandboxed program is not started. `unavailable`: this machine cannot confine anything
 * (not Linux, bubblewrap missing, namespaces refused); `setup`: this program's sandbox cannot be
 * built as configured (a path that does not exist, a path inside tandem's data dir, a command not
 * found). Either way the program is not run: there is no unconfined fallback.
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
  readonly kind: "unavailable" | "setup";

  constructor(kind: "unavailable" | "setup", message: string) {
    super(message);
    this.kind = kind;
  }
}
