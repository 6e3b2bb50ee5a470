/** Where a hidden prompt reads and writes: a terminal's stdin (raw mode) and stderr. */
export interface PromptIo {
  stdin: NodeJS.ReadableStream & {
    isTTY?: boolean;
    setRawMode?: (mode: boolean) => unknown;
    setEncoding(encoding: BufferEncoding): unknown;
    resume(): unknown;
    pause(): unknown;
  };
  stderr: { write(text: string): unknown };
}

/** Ctrl-C at a hidden prompt. */
export class InterruptedError extends Error {
  constructor() {
    super("interrupted");
  }
}

/** Whether a hidden prompt can be shown: stdin is a terminal that has a raw mode. */
export function canPrompt(io: Pick<PromptIo, "stdin">): boolean {
  return io.stdin.isTTY === true && typeof io.stdin.setRawMode === "function";
}

/** Reads a line on a terminal without echoing it: raw mode, so the key never appears on screen. */
export function promptHidden(io: PromptIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolvePromise, reject) => {
    let value = "";
    let inEscape = false;
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write("\n");
      if (error) reject(error);
      else resolvePromise(value);
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of chunk.toString()) {
        if (inEscape) {
          // Skip the rest of an escape sequence (arrow keys, bracketed paste markers): it ends with a letter or ~.
          if (/[A-Za-z~]/.test(ch)) inEscape = false;
          continue;
        }
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new InterruptedError());
        if (ch === "\u0004") {
          if (value === "") return finish();
          continue;
        }
        if (ch === "\u001b") inEscape = true;
        else if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
