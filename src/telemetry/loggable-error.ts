import { cleanErrorText } from "../core/index.js";

export interface LoggableError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: LoggableError;
}

/**
 * An error as a log line may show it: message and stack cleaned like every GatewayError message (no
 * keys, no home directory), causes followed a few levels. A GatewayError's own message is clean
 * already, but what it wraps (an undici error, a SyntaxError quoting an upstream's body) is not.
 */
export function loggableError(err: unknown, depth = 0): LoggableError {
  if (!(err instanceof Error)) return { type: typeof err, message: cleanErrorText(String(err)).slice(0, 2000) };
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    message: cleanErrorText(err.message),
    ...(typeof code === "string" && { code }),
    ...(err.stack !== undefined && { stack: cleanErrorText(err.stack) }),
    ...(err.cause !== undefined && depth < 3 && { cause: loggableError(err.cause, depth + 1) }),
  };
}
