import type { z } from "zod";
import { formatPath, GatewayError } from "../../core/index.js";

export { formatPath };

/**
 * Validates a request body against a dialect's schema. On failure throws an invalid_request
 * GatewayError whose message names the field and what was expected.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "The request body must be a JSON object");
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new GatewayError("invalid_request", "Invalid request body");
  const param = formatPath(issue.path);
  const message = param ? `Invalid value for '${param}': ${issue.message}` : `Invalid request: ${issue.message}`;
  return throwInvalid(message, param || undefined);
}

function throwInvalid(message: string, param: string | undefined): never {
  throw new GatewayError("invalid_request", message, { param });
}
