/**
 * How much a JSON Schema may hold, as OpenAI documents it for Structured Outputs ("Supported schemas":
 * https://developers.openai.com/api/docs/guides/structured-outputs#supported-schemas). tandem holds
 * the schemas it compiles itself to the same bounds: the embedded engine's grammar (a grammar of
 * 15,000 enum values stalled the engine for every model) and the acceptance check (ajv's compile
 * grows with the schema). A schema within them costs milliseconds to compile.
 */
export const SCHEMA_LIMITS = {
  /** Object properties, over the whole schema. */
  properties: 5000,
  /** Levels of nesting. */
  depth: 10,
  /** Enum values, over every enum of the schema. */
  enumValues: 1000,
  /** Characters of one string enum's values, when it has more than `largeEnum` of them. */
  largeEnumChars: 15_000,
  largeEnum: 250,
  /** Characters of every property name, definition name, enum value and const value. */
  names: 120_000,
} as const;

/** What a schema holds, measured against SCHEMA_LIMITS. */
interface SchemaSize {
  properties: number;
  depth: number;
  enumValues: number;
  names: number;
  /** The largest string enum of more than SCHEMA_LIMITS.largeEnum values: its values' characters. */
  largeEnumChars: number;
}

/**
 * Why a schema is beyond SCHEMA_LIMITS (the first limit it passes, in a sentence naming it), or
 * undefined when it is within them. One walk over the schema, linear in its size.
 */
export function schemaOverLimits(schema: unknown): string | undefined {
  const size: SchemaSize = { properties: 0, depth: 0, enumValues: 0, names: 0, largeEnumChars: 0 };
  measure(schema, 0, size);
  const l = SCHEMA_LIMITS;
  if (size.enumValues > l.enumValues)
    return `the schema has ${size.enumValues} enum values; at most ${l.enumValues} are allowed in total`;
  if (size.largeEnumChars > l.largeEnumChars)
    return `an enum of more than ${l.largeEnum} values has ${size.largeEnumChars} characters of values; at most ${l.largeEnumChars} are allowed`;
  if (size.properties > l.properties)
    return `the schema has ${size.properties} object properties; at most ${l.properties} are allowed in total`;
  if (size.depth > l.depth) return `the schema nests ${size.depth} levels deep; at most ${l.depth} levels are allowed`;
  if (size.names > l.names)
    return `the schema's property names, definition names, enum and const values have ${size.names} characters; at most ${l.names} are allowed`;
  return undefined;
}

/** The keywords whose value is one subschema, or a list of them (depth counts the schemas nested in them). */
const SUBSCHEMA = ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"];
const SUBSCHEMA_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];
const SUBSCHEMA_MAPS = ["$defs", "definitions", "properties", "patternProperties", "dependentSchemas"];

function measure(schema: unknown, depth: number, size: SchemaSize): void {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return;
  const s = schema as Record<string, unknown>;
  size.depth = Math.max(size.depth, depth);
  if (Array.isArray(s.enum)) {
    size.enumValues += s.enum.length;
    let chars = 0;
    for (const value of s.enum) if (typeof value === "string") chars += value.length;
    size.names += chars;
    if (s.enum.length > SCHEMA_LIMITS.largeEnum) size.largeEnumChars = Math.max(size.largeEnumChars, chars);
  }
  if (typeof s.const === "string") size.names += s.const.length;
  for (const key of SUBSCHEMA_MAPS) {
    const map = s[key];
    if (map === null || typeof map !== "object" || Array.isArray(map)) continue;
    const entries = Object.entries(map);
    if (key === "properties") size.properties += entries.length;
    // Definitions are not nested in their schema: a level is what the answer nests, not where a definition sits.
    const inner = key === "$defs" || key === "definitions" ? depth : depth + 1;
    for (const [name, sub] of entries) {
      size.names += name.length;
      measure(sub, inner, size);
    }
  }
  for (const key of SUBSCHEMA) measure(s[key], depth + 1, size);
  for (const key of SUBSCHEMA_LISTS) {
    const list = s[key];
    // A choice's alternatives are the same level as the choice.
    if (Array.isArray(list)) for (const sub of list) measure(sub, key === "prefixItems" ? depth + 1 : depth, size);
  }
}
