/**
 * What a CLI command talks to, so tests can run it in-process: its output streams, environment and
 * exit. `processIo()` is the real process.
 */
export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Records a finished command's exit code. */
  setExitCode(code: number): void;
  /** Ends the process (a usage error, after help). */
  exit(code: number): never;
}

/** Exit codes: 0 ok, 1 the operation failed, 2 a usage or config error, 130 interrupted (Ctrl-C). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export function processIo(): CommandIo & { stdin: NodeJS.ReadStream } {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    setExitCode: (code) => {
      process.exitCode = code;
    },
    exit: (code) => process.exit(code),
  };
}

/** A `warn` callback for the store (its database key's warnings): each line goes where the command's other messages go. */
export function warnTo(io: { stderr: { write(text: string): unknown } }): (line: string) => void {
  return (line) => io.stderr.write(`${line}\n`);
}
