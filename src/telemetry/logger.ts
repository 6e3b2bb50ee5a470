import { writeSync } from "node:fs";
import { type DestinationStream, type Logger, pino } from "pino";

/** Lines waiting beyond this many characters are written at once, without waiting for the turn to end. */
const FLUSH_AT = 64 * 1024;

/**
 * Log lines go to stdout with write(2), the lines of one event-loop turn in one call: under load a
 * turn answers many requests, and one write per line was a measurable part of the CPU per request.
 * Nothing waits on the thread pool (pino's asynchronous writer takes two thread wake-ups per line),
 * and no line is held back past the turn it was logged in; lines still waiting when the process
 * exits are written on the way out. A log that cannot be written (a full disk, a closed pipe) costs
 * its lines, never the server: pino's own writer would raise an unhandled error and take the process down.
 */
export function stdoutDestination(fd = 1): DestinationStream & { flush(): void } {
  let failing = false;
  let pending = "";
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const text = pending;
    pending = "";
    if (text) writeAll(text);
  }

  function writeAll(text: string): void {
    let rest = Buffer.from(text, "utf8");
    for (let attempt = 0; attempt < 3 && rest.length > 0; ) {
      try {
        const written = writeSync(fd, rest);
        rest = rest.subarray(written);
        failing = false;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
          attempt++;
          continue;
        }
        if (!failing) {
          failing = true;
          try {
            process.stderr.write(
              `tandem: cannot write log lines (${(err as NodeJS.ErrnoException).code}); dropping them until it can\n`,
            );
          } catch {
            // Nowhere left to say it.
          }
        }
        return;
      }
    }
  }

  process.once("exit", flush);
  return {
    write(line: string): void {
      pending += line;
      if (pending.length >= FLUSH_AT) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** JSON lines on stdout, one per request (see server/app.ts). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "tandem" }, timestamp: pino.stdTimeFunctions.isoTime }, stdoutDestination());
}
