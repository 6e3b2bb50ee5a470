import { z } from "zod";
import { GatewayError } from "../../core/index.js";
import { type BodyIssue, invalidValue, parseBody } from "../shared/index.js";

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

/**
 * parseOpenAIBody for one object inside a body (a tool checked on its own, `tools[0]`): a bad field
 * is answered in the same words, named from the body's top (`tools[0].name`).
 */
export function parseOpenAIPart<S extends z.ZodType>(schema: S, value: unknown, at: string): z.output<S> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid(at, `Invalid type for '${at}': expected an object, but got ${typeName(value)} instead.`, "invalid_type");
  }
  return parseBody(schema, value, (found) => {
    const param = `${at}.${found.param}`;
    return openAIBodyError(schema, { ...found, param }) ?? invalidValue(param, found.issue.message);
  });
}

function openAIBodyError(schema: z.ZodType, { param, issue, value }: BodyIssue): GatewayError | undefined {
  // A null model is no model (the SDKs send every field, null when unset).
  if (value === undefined || (value === null && param === "model")) {
    return invalid(param, `Missing required parameter: '${param}'.`, "missing_required_parameter");
  }
  // A value of a type the field never takes (`truncation: 1`, `tool_choice: 5`), whichever branch zod tells of.
  if (issue.code === "invalid_value" || issue.code === "invalid_union") {
    const mismatch = typeMismatch(fieldSchema(schema, issue.path), value);
    if (mismatch !== undefined) {
      return invalid(
        param,
        `Invalid type for '${param}': expected ${mismatch}, but got ${typeName(value)} instead.`,
        "invalid_type",
      );
    }
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
      if (issue.origin === "string" && typeof value === "string") {
        if (!above && value === "") {
          return invalid(
            param,
            `Invalid '${param}': empty string. Expected a string with minimum length ${limit}, but got an empty string instead.`,
            "empty_string",
          );
        }
        return invalid(
          param,
          `Invalid '${param}': string too ${above ? "long" : "short"}. Expected a string with ${above ? "maximum" : "minimum"} length ${limit}, but got a string with length ${value.length} instead.`,
          `string_${above ? "above_max" : "below_min"}_length`,
        );
      }
      // zod tells of an integer field's own range as `int` (its safe-integer bound: `1e20`).
      if ((issue.origin === "number" || issue.origin === "int") && typeof value === "number") {
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

/**
 * What OpenAI calls the types a field takes, when `value` has none of them (a union's branches'
 * types, an enum's strings); undefined when it has one, or the field takes a type without a name here.
 */
function typeMismatch(field: z.ZodType | undefined, value: unknown): string | undefined {
  const options = field instanceof z.ZodUnion ? (field.options as z.ZodType[]).map(unwrap) : [field];
  const kinds: string[] = [];
  const valueKind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  for (const option of options) {
    const jsonKind = option instanceof z.ZodEnum || option instanceof z.ZodLiteral ? literalKind(option) : option?.type;
    if (jsonKind === undefined) return undefined;
    // zod's `record` is a JSON object, its `number` a JSON number.
    if ((jsonKind === "record" ? "object" : jsonKind) === valueKind) return undefined;
    const named = expectedType(jsonKind, option);
    if (named === undefined) return undefined;
    kinds.push(named);
  }
  return [...new Set(kinds)].join(" or ");
}

/** The JSON type of an enum's or a literal's values, when they share one. */
function literalKind(schema: z.ZodEnum | z.ZodLiteral): string | undefined {
  const values = schema instanceof z.ZodEnum ? Object.values(schema.enum) : [...schema.values];
  const kinds = new Set(values.map((v) => typeof v));
  return kinds.size === 1 ? [...kinds][0] : undefined;
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
export function typeName(value: unknown): string {
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
