import { type Logger, pino } from "pino";

/**
 * JSON lines on stdout, one per request (see server/app.ts). Written synchronously: a line is a
 * few hundred bytes, one write(2) costs microseconds, and pino's default asynchronous writer goes
 * through libuv's thread pool, which cost two thread wake-ups per request and lost lines on a crash.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: { service: "tandem" }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: true }),
  );
}
