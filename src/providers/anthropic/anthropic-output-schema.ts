/**
 * What of JSON Schema Anthropic's structured outputs (`output_config.format`) take: its guide's
 * "JSON Schema limitations", and what @anthropic-ai/sdk's own transformJSONSchema keeps of a schema
 * (lib/transform-json-schema.ts). Every object must say `additionalProperties: false`; there are no
 * recursive schemas, no numeric or length bounds (`minimum`, `maxLength`...), no `minItems` but 0
 * or 1, enums and consts of plain values only, and a pattern without backreferences, lookaround or
 * word boundaries.
 */

/** The keywords taken on any schema. */
const ANY_KEYWORDS = new Set([
  "type",
  "enum",
  "const",
  "anyOf",
  "allOf",
  "$ref",
  "$defs",
  "definitions",
  "description",
  "title",
  "default",
]);
/** The keywords taken beside them, by the type they belong to. */
const TYPE_KEYWORDS = new Set(["properties", "required", "additionalProperties", "items", "minItems", "format", "pattern"]);
/** The string formats taken (the SDK's SUPPORTED_STRING_FORMATS). */
const FORMATS = new Set(["date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"]);
/** Regex features Anthropic's patterns do not take: backreferences, lookahead and lookbehind, word boundaries. */
const UNTAKEN_PATTERN = /\\[1-9]|\\k<|\(\?[=!<]|\\[bB]/;

/** An output schema as Anthropic is sent it, or what of it Anthropic's structured outputs do not take. */
export type AnthropicOutputSchema = { schema: Record<string, unknown> } | { untaken: string };

/**
 * `schema` as `output_config.format.schema`: `additionalProperties: false` added to each object that
 * does not say it (which allows fewer answers, every one of which the schema allows), `$schema` left
 * out (it constrains nothing). Or, when the schema uses what Anthropic's structured outputs do not
 * take, what that is, in a few words (`'minimum'`, `a recursive $ref`), to be named in x-tandem-warnings.
 */
export function anthropicOutputSchema(schema: Record<string, unknown>): AnthropicOutputSchema {
  const { $schema: _, ...rest } = schema;
  const untaken = { found: undefined as string | undefined };
  const sent = prepare(rest, untaken);
  if (untaken.found === undefined) untaken.found = recursion(rest);
  return untaken.found === undefined ? { schema: sent as Record<string, unknown> } : { untaken: untaken.found };
}

function prepare(node: unknown, untaken: { found: string | undefined }): unknown {
  if (untaken.found !== undefined) return node;
  if (typeof node !== "object" || node === null || Array.isArray(node)) {
    untaken.found = "a schema that is not an object";
    return node;
  }
  const schema = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!ANY_KEYWORDS.has(key) && !TYPE_KEYWORDS.has(key)) {
      untaken.found = `'${key}'`;
      return node;
    }
    out[key] = value;
  }
  const problem = keywordProblem(schema);
  if (problem !== undefined) {
    untaken.found = problem;
    return node;
  }
  if (isObjectSchema(schema)) {
    out.additionalProperties = false;
    if (isRecord(schema.properties)) out.properties = mapValues(schema.properties, (s) => prepare(s, untaken));
  }
  for (const key of ["$defs", "definitions"])
    if (isRecord(schema[key])) out[key] = mapValues(schema[key], (s) => prepare(s, untaken));
  for (const key of ["anyOf", "allOf"])
    if (Array.isArray(schema[key])) out[key] = (schema[key] as unknown[]).map((s) => prepare(s, untaken));
  if (schema.items !== undefined) out.items = prepare(schema.items, untaken);
  return out;
}

/** What of one schema's own keywords Anthropic does not take, if anything. */
function keywordProblem(schema: Record<string, unknown>): string | undefined {
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false)
    return "'additionalProperties' other than false";
  if (schema.minItems !== undefined && schema.minItems !== 0 && schema.minItems !== 1) return "'minItems' above 1";
  if (Array.isArray(schema.enum) && !schema.enum.every(isPlain)) return "an 'enum' of objects or arrays";
  if (schema.const !== undefined && !isPlain(schema.const)) return "a 'const' object or array";
  if (schema.format !== undefined && !FORMATS.has(String(schema.format))) return `'format' ${JSON.stringify(schema.format)}`;
  if (typeof schema.pattern === "string" && UNTAKEN_PATTERN.test(schema.pattern))
    return "a 'pattern' with backreferences, lookaround or \\b";
  if (typeof schema.$ref === "string" && !schema.$ref.startsWith("#/")) return "an external $ref";
  const typed = schema.type !== undefined || ["enum", "const", "anyOf", "allOf", "$ref"].some((k) => schema[k] !== undefined);
  if (!typed) return "a schema without a type";
  return undefined;
}

/** The first $ref that leads back to itself, in a few words; undefined when there is none. */
function recursion(root: Record<string, unknown>): string | undefined {
  const resolve = (ref: string): unknown =>
    ref
      .slice(2)
      .split("/")
      .reduce<unknown>((at, part) => (isRecord(at) ? at[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), root);
  const refsIn = (node: unknown, found: Set<string>): Set<string> => {
    if (Array.isArray(node)) for (const item of node) refsIn(item, found);
    else if (isRecord(node)) {
      if (typeof node.$ref === "string") found.add(node.$ref);
      // Definitions are reached through the refs to them, not as the schema they sit in.
      for (const [key, value] of Object.entries(node)) if (key !== "$defs" && key !== "definitions") refsIn(value, found);
    }
    return found;
  };
  const visiting = new Set<string>();
  const done = new Set<string>();
  const cyclic = (ref: string): boolean => {
    if (done.has(ref)) return false;
    if (visiting.has(ref) || ref === "#" || ref === "#/") return true;
    visiting.add(ref);
    const target = resolve(ref);
    for (const next of refsIn(target, new Set())) if (cyclic(next)) return true;
    visiting.delete(ref);
    done.add(ref);
    return false;
  };
  for (const ref of refsIn(root, new Set())) if (cyclic(ref)) return "a recursive $ref";
  return undefined;
}

function isObjectSchema(schema: Record<string, unknown>): boolean {
  return (
    schema.type === "object" || (Array.isArray(schema.type) && schema.type.includes("object")) || isRecord(schema.properties)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPlain(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

function mapValues(record: Record<string, unknown>, fn: (value: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}
