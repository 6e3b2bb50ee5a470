import { Ajv, type Options, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import { GatewayError } from "./errors.js";
import { schemaOverLimits } from "./json-schema-limits.js";

/**
 * A pattern as JSON Schema's regular expressions (ECMA-262) read it: with the `u` flag where it
 * compiles with it, else without (`[\w-]`, common in generated schemas, is valid only without), so
 * that a pattern is refused only when JavaScript cannot read it at all.
 */
function schemaRegExp(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    if (!flags.includes("u")) throw err;
    return new RegExp(pattern, flags.replace("u", ""));
  }
}
schemaRegExp.code = "new RegExp";

const OPTIONS: Options = {
  strict: false,
  // Never console.warn from a server: an unknown format or keyword is the target's business.
  logger: false,
  // Flat generated code: with early exits ajv nests one block per property, and a schema of a few
  // thousand properties overflows its code generator's stack.
  allErrors: true,
  code: { regExp: schemaRegExp },
  // A schema's $id is not registered: two clients' schemas may share one.
  addUsedSchema: false,
};

/** One ajv per JSON Schema dialect a schema may name in `$schema` (draft-07, ajv's default, when it names none). */
const DIALECTS: { matches: (uri: string) => boolean; ajv: Ajv }[] = [
  { matches: (uri) => uri.includes("draft/2020-12"), ajv: new Ajv2020(OPTIONS) },
  { matches: (uri) => uri.includes("draft/2019-09"), ajv: new Ajv2019(OPTIONS) },
  { matches: (uri) => uri.includes("draft-07") || uri.includes("draft-06"), ajv: new Ajv(OPTIONS) },
];
const DRAFT_07 = DIALECTS[2]!.ajv;

/** The compiled schemas, most recently used last; each removed from its ajv when evicted (ajv keeps every schema it compiled). */
const compiled = new Map<string, { ajv: Ajv; schema: object; validate: ValidateFunction }>();
const MAX_COMPILED = 64;

/**
 * The result of compiling a client's JSON Schema: its validator, why it is not a valid schema
 * (`invalid`: a `$ref` to nothing, an unknown type, a pattern no regular expression reads), or
 * `unchecked` when tandem does not compile it: a schema beyond SCHEMA_LIMITS (ajv's compile grows
 * with it, quadratically with an enum's values: 40,000 took 19 s) or of a JSON Schema dialect ajv
 * does not know (draft-04). Cached by the schema's text.
 */
export type CompiledSchema = { validate: ValidateFunction } | { invalid: string } | { unchecked: string };

export function compileSchema(schema: Record<string, unknown>): CompiledSchema {
  const over = schemaOverLimits(schema);
  if (over !== undefined) return { unchecked: over };
  const ajv = ajvFor(schema.$schema);
  if (ajv === undefined) return { unchecked: `its $schema ${JSON.stringify(schema.$schema)} is a dialect tandem does not check` };
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) {
    compiled.delete(key);
    compiled.set(key, hit);
    return { validate: hit.validate };
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    // ajv may keep what it registered before the failure.
    ajv.removeSchema(schema);
    return { invalid: (err as Error).message };
  }
  if (compiled.size >= MAX_COMPILED) {
    const [oldest, entry] = compiled.entries().next().value as [string, { ajv: Ajv; schema: object }];
    compiled.delete(oldest);
    entry.ajv.removeSchema(entry.schema);
  }
  compiled.set(key, { ajv, schema, validate });
  return { validate };
}

function ajvFor(uri: unknown): Ajv | undefined {
  if (uri === undefined) return DRAFT_07;
  if (typeof uri !== "string") return undefined;
  return DIALECTS.find((d) => d.matches(uri))?.ajv;
}

/**
 * Refuses a client's response schema that is not a valid JSON Schema, with a 400 naming the
 * client's field (`param`: response_format, text.format, output_config.format, format), as OpenAI
 * refuses one: otherwise every target answers it unconstrained (the embedded engine reads the broken
 * part as "any value", another upstream is sent it as it is). A schema tandem does not compile
 * (`unchecked`) is left to its target.
 */
export function checkResponseSchema(schema: Record<string, unknown>, param: string): void {
  const result = compileSchema(schema);
  if (!("invalid" in result)) return;
  throw new GatewayError("invalid_request", `Invalid schema for '${param}': ${result.invalid}`, {
    param,
    retryable: false,
  });
}
