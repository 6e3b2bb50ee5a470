import { writeSync } from "node:fs";
import { type DestinationStream, type Logger, pino } from "pino";

/**
 * Log lines go to stdout with one write(2) each: a line is a few hundred bytes and costs microseconds,
 * where pino's asynchronous writer goes through libuv's thread pool (two thread wake-ups per request).
 * A log that cannot be written (a full disk, a closed pipe) costs its line, never the server: pino's
 * own writer would raise an unhandled error and take the process down.
 */
export function stdoutDestination(fd = 1): DestinationStream {
  let failing = false;
  return {
    write(line: string): void {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          writeSync(fd, line);
          failing = false;
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "EAGAIN") continue;
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
    },
  };
}

/** JSON lines on stdout, one per request (see server/app.ts). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "tandem" }, timestamp: pino.stdTimeFunctions.isoTime }, stdoutDestination());
}
