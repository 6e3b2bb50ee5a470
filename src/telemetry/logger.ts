import { type Logger, pino } from "pino";

/** JSON lines on stdout, one per request (see server/app.ts). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "tandem" }, timestamp: pino.stdTimeFunctions.isoTime });
}
