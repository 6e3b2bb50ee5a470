import { z } from "zod";
import { formatPath, GatewayError } from "../../core/index.js";

export { formatPath };

/** The first thing wrong with a body: the field (`messages[0].role`), zod's issue, and the value the body has there. */
export interface BodyIssue {
  param: string;
  issue: BodyIssueDetail;
  /** What the body holds at the field (undefined when it is missing). */
  value: unknown;
}

/** zod's issue, as much of it as a dialect's wording reads. */
export type BodyIssueDetail = Issue & {
  expected?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  values?: unknown[];
};

/**
 * Validates a request body against a dialect's schema. On failure throws an invalid_request
 * GatewayError whose message names the field and what was expected; `explain` words it in the
 * dialect's own terms where it can (undefined: the default wording).
 */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  explain?: (found: BodyIssue) => GatewayError | undefined,
): z.output<S> {
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
  if (param) {
    throw (
      explain?.({ param, issue: issue as BodyIssueDetail, value: valueAt(body, issue.path) }) ??
      invalidValue(param, issue.message)
    );
  }
  throw new GatewayError("invalid_request", `Invalid request: ${issue.message}`);
}

/** The value at a path of a parsed JSON body. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A 400 for one field, as parseBody words it: `Invalid value for '<param>': <reason>`. */
export function invalidValue(param: string, reason: string): GatewayError {
  return new GatewayError("invalid_request", `Invalid value for '${param}': ${reason}`, { param });
}

type Issue = { code?: string; path: PropertyKey[]; message: string; errors?: Issue[][] };

/**
 * For a value that matches no branch of a union (`content`: a string or a list of parts), the issue of
 * the branch that got furthest into it, when one got past the value itself (`content[0].input_audio`
 * is missing), or else of the branch whose type the value has (`stop`: a list, but too long),
 * rather than zod's "Invalid input" on the union as a whole.
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
  // None got past the value: the branch whose type it has, if one (`stop`: a list, but too long).
  best ??= union.errors.map((branch) => branch[0]).find((first) => first !== undefined && first.code !== "invalid_type");
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
