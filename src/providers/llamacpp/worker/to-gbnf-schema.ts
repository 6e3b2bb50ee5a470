import type { GbnfJsonSchema } from "node-llama-cpp";

type Json = Record<string, unknown>;

const BASIC = new Set(["string", "number", "integer", "boolean", "null"]);
const FORMATS = new Set(["date-time", "time", "date"]);
const ANY: Json = {
  oneOf: [
    { type: "string" },
    { type: "number" },
    { type: "boolean" },
    { type: "null" },
    { type: "object", additionalProperties: true },
    { type: "array" },
  ],
};

/**
 * A client's JSON Schema (tool parameters, response_format) -> the subset node-llama-cpp turns into a
 * grammar. Keywords the grammar cannot express are dropped rather than refused: numeric bounds,
 * patterns, `required` (the grammar always writes every listed property). `anyOf` becomes `oneOf`,
 * `definitions` become `$defs`, a type list becomes a choice, and an untyped schema allows any value.
 * The router's quality check still validates the output against the client's full schema.
 */
export function toGbnfSchema(schema: unknown): GbnfJsonSchema {
  return convert(schema, 0) as GbnfJsonSchema;
}

function convert(schema: unknown, depth: number): Json {
  if (depth > 32 || schema === null || typeof schema !== "object" || Array.isArray(schema)) return ANY;
  const s = schema as Json;
  const out: Json = {};
  if (typeof s.description === "string") out.description = s.description;
  const defs = (s.$defs ?? s.definitions) as Json | undefined;
  if (defs && typeof defs === "object") {
    out.$defs = Object.fromEntries(Object.entries(defs).map(([k, v]) => [k, convert(v, depth + 1)]));
  }
  if (typeof s.$ref === "string") return { ...out, $ref: s.$ref.replace("#/definitions/", "#/$defs/") };
  if ("const" in s && isScalar(s.const)) return { ...out, const: s.const };
  if (Array.isArray(s.enum) && s.enum.every(isScalar)) return { ...out, enum: s.enum };
  const choice = (s.oneOf ?? s.anyOf) as unknown;
  if (Array.isArray(choice) && choice.length > 0) return { ...out, oneOf: choice.map((c) => convert(c, depth + 1)) };
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return { ...convert(s.allOf[0], depth + 1), ...out };

  const type = s.type;
  if (Array.isArray(type)) {
    const types = type.filter((t): t is string => typeof t === "string");
    if (types.length === 0) return { ...out, ...ANY };
    if (types.length === 1) return { ...convert({ ...s, type: types[0] }, depth), ...out };
    return { ...out, oneOf: types.map((t) => convert({ ...s, type: t }, depth + 1)) };
  }
  if (type === "object" || (type === undefined && s.properties)) {
    const props = (s.properties ?? {}) as Json;
    out.type = "object";
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, convert(v, depth + 1)]));
    const extra = s.additionalProperties;
    if (extra === true || (extra === undefined && Object.keys(props).length === 0)) out.additionalProperties = true;
    else if (extra && typeof extra === "object") out.additionalProperties = convert(extra, depth + 1);
    return out;
  }
  if (type === "array") {
    out.type = "array";
    if (s.items && typeof s.items === "object" && !Array.isArray(s.items)) out.items = convert(s.items, depth + 1);
    if (Array.isArray(s.prefixItems)) out.prefixItems = s.prefixItems.map((p) => convert(p, depth + 1));
    if (typeof s.minItems === "number") out.minItems = s.minItems;
    if (typeof s.maxItems === "number") out.maxItems = s.maxItems;
    return out;
  }
  if (typeof type === "string" && BASIC.has(type)) {
    out.type = type;
    if (type === "string") {
      if (typeof s.format === "string" && FORMATS.has(s.format)) out.format = s.format;
      else {
        if (typeof s.minLength === "number") out.minLength = s.minLength;
        if (typeof s.maxLength === "number") out.maxLength = s.maxLength;
      }
    }
    return out;
  }
  return { ...out, ...ANY };
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}
