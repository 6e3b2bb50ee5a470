import { z } from "zod";
import { GatewayError } from "../../core/index.js";
import { type BodyIssue, parseBody } from "../shared/index.js";

/**
 * parseBody with OpenAI's own words and `code` for a bad field, as api.openai.com answers them (and
 * its SDKs and clients read the code): `missing_required_parameter` ("Missing required parameter:
 * 'messages'."), `invalid_type` ("Invalid type for 'n': expected an integer, but got a string
 * instead."), `integer_above_max_value` / `decimal_below_min_value` and the like ("Invalid 'n':
 * integer above maximum value. Expected a value <= 128, but got 200 instead."), `empty_array`,
 * `array_above_max_length`, and `invalid_value` for a value outside a closed set. Every message
 * names its field (OpenAI's "you must provide a model parameter" and "Invalid value: 'x'." name it
 * only in `param`; DESIGN has every 400 name it in the message too). What it has no
 * words for keeps parseBody's own (`Invalid value for '<param>': ...`, code `invalid_value`).
 */
export function parseOpenAIBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return parseBody(schema, body, (found) => openAIBodyError(schema, found));
}

function openAIBodyError(schema: z.ZodType, { param, issue, value }: BodyIssue): GatewayError | undefined {
  // A null model is no model (the SDKs send every field, null when unset).
  if (value === undefined || (value === null && param === "model")) {
    return invalid(param, `Missing required parameter: '${param}'.`, "missing_required_parameter");
  }
  switch (issue.code) {
    case "invalid_type": {
      const expected = expectedType(issue.expected, fieldSchema(schema, issue.path));
      if (expected === undefined) return undefined;
      return invalid(
        param,
        `Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`,
        "invalid_type",
      );
    }
    case "too_big":
    case "too_small": {
      const above = issue.code === "too_big";
      const limit = Number(above ? issue.maximum : issue.minimum);
      if (issue.origin === "number" && typeof value === "number") {
        const kind = isInteger(fieldSchema(schema, issue.path)) ? "integer" : "decimal";
        const bound = above ? `<= ${limit}` : `>= ${limit}`;
        return invalid(
          param,
          `Invalid '${param}': ${kind} ${above ? "above maximum" : "below minimum"} value. Expected a value ${bound}, but got ${value} instead.`,
          `${kind}_${above ? "above_max" : "below_min"}_value`,
        );
      }
      if (issue.origin === "array" && Array.isArray(value)) {
        if (!above && value.length === 0) {
          return invalid(
            param,
            `Invalid '${param}': empty array. Expected an array with minimum length ${limit}, but got an empty array instead.`,
            "empty_array",
          );
        }
        return invalid(
          param,
          `Invalid '${param}': array too ${above ? "long" : "short"}. Expected an array with ${above ? "maximum" : "minimum"} length ${limit}, but got an array with length ${value.length} instead.`,
          `array_${above ? "above_max" : "below_min"}_length`,
        );
      }
      return undefined;
    }
    case "invalid_union": {
      // A field of several shapes (embeddings' `input`: a string or an array) given a value of none
      // of their types is answered as one of a single type is: "Invalid type for 'input': expected a
      // string or an array, but got an integer instead." A value of one of the types but wrong inside
      // keeps parseBody's words.
      const field = fieldSchema(schema, issue.path);
      if (!(field instanceof z.ZodUnion)) return undefined;
      const options = (field.options as z.ZodType[]).map(unwrap);
      const kinds = options.map((option) => expectedType(option?.type, option));
      const valueKind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
      if (kinds.includes(undefined) || options.some((option) => option?.type === valueKind)) return undefined;
      const expected = [...new Set(kinds)].join(" or ");
      return invalid(
        param,
        `Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`,
        "invalid_type",
      );
    }
    case "invalid_value": {
      if (!issue.values || typeof value !== "string") return undefined;
      return invalid(
        param,
        // OpenAI's words, with the field named (as DESIGN's every 400 does; OpenAI names it in `param` only).
        `Invalid value for '${param}': '${value.slice(0, 100)}'. Supported values are: ${quotedList(issue.values)}.`,
        "invalid_value",
      );
    }
    default:
      return undefined;
  }
}

function invalid(param: string, message: string, code: string): GatewayError {
  return new GatewayError("invalid_request", message, { param, reason: code });
}

/** The schema of the field at a path through objects and arrays (optional and nullable unwrapped); undefined past a union. */
function fieldSchema(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let at: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    if (at instanceof z.ZodObject && typeof key === "string") at = unwrap(at.shape[key] as z.ZodType | undefined);
    else if (at instanceof z.ZodArray && typeof key === "number") at = unwrap(at.element as z.ZodType);
    else return undefined;
  }
  return at;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let at = schema;
  while (at instanceof z.ZodOptional || at instanceof z.ZodNullable) at = at.unwrap() as z.ZodType;
  return at;
}

function isInteger(schema: z.ZodType | undefined): boolean {
  return schema instanceof z.ZodNumber && schema.isInt === true;
}

/** What OpenAI calls the type a field takes. */
function expectedType(expected: string | undefined, schema: z.ZodType | undefined): string | undefined {
  switch (expected) {
    case "string":
      return "a string";
    case "number":
      return isInteger(schema) ? "an integer" : "a decimal";
    case "int":
      return "an integer";
    case "boolean":
      return "a boolean";
    case "array":
      return "an array";
    case "object":
    case "record":
      return "an object";
    default:
      return undefined;
  }
}

/** What OpenAI calls the type of the value a body had. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal";
  if (typeof value === "object") return "an object";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "string") return "a string";
  return typeof value;
}

/** `'a', 'b', and 'c'`, as OpenAI lists a closed set. */
function quotedList(values: readonly unknown[]): string {
  const quoted = values.map((v) => `'${String(v)}'`);
  if (quoted.length < 3) return quoted.join(" and ");
  return `${quoted.slice(0, -1).join(", ")}, and ${quoted.at(-1)}`;
}
