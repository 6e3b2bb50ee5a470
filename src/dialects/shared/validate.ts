import { z } from "zod";
import { formatPath, GatewayError } from "../../core/index.js";

export { formatPath };

/**
 * Validates a request body against a dialect's schema. On failure throws an invalid_request
 * GatewayError whose message names the field and what was expected.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  // No body at all, or an empty one labelled JSON (the server reads that as none).
  if (body === undefined) throw new GatewayError("invalid_request", "The request body is empty; expected a JSON object");
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "The request body must be a JSON object");
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] && deepestBranch(parsed.error.issues[0]);
  if (!issue) throw new GatewayError("invalid_request", "Invalid request body");
  const param = formatPath(issue.path);
  if (param) throw invalidValue(param, issue.message);
  throw new GatewayError("invalid_request", `Invalid request: ${issue.message}`);
}

/** A 400 for one field, as parseBody words it: `Invalid value for '<param>': <reason>`. */
export function invalidValue(param: string, reason: string): GatewayError {
  return new GatewayError("invalid_request", `Invalid value for '${param}': ${reason}`, { param });
}

type Issue = { code?: string; path: PropertyKey[]; message: string; errors?: Issue[][] };

/**
 * For a value that matches no branch of a union (`content`: a string or a list of parts), the issue of
 * the branch that got furthest into it, when one got past the value itself (`content[0].input_audio`
 * is missing), rather than zod's "Invalid input" on the union as a whole.
 */
function deepestBranch(issue: z.core.$ZodIssue): Issue {
  const union = issue as Issue;
  if (union.code !== "invalid_union" || !union.errors) return union;
  let best: Issue | undefined;
  for (const branch of union.errors) {
    const first = branch[0];
    if (first !== undefined && first.path.length > 0 && (best === undefined || first.path.length > best.path.length))
      best = first;
  }
  if (best === undefined) return union;
  const inner = deepestBranch(best as z.core.$ZodIssue);
  return { ...inner, path: [...union.path, ...inner.path] };
}

/**
 * An integer as OpenAI's and Ollama's APIs type `seed` (int64): any whole JSON number, also past
 * 2^53, where JavaScript holds it to the nearest double (zod's `int()` takes only safe integers, and
 * refused what a Python or Go client sends). A same-wire upstream gets the client's own digits.
 */
export function int64() {
  return z.number().refine(Number.isInteger, { message: "expected an integer" });
}
