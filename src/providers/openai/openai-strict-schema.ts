import type { ChatRequest, ResponseFormat } from "../../core/index.js";

/**
 * Keywords OpenAI's Structured Outputs do not take in a strict schema ("Supported schemas" in its
 * guide): a strict request with one of them is refused.
 */
const UNSUPPORTED_KEYWORDS = [
  "allOf",
  "not",
  "oneOf",
  "if",
  "then",
  "else",
  "dependentRequired",
  "dependentSchemas",
  "patternProperties",
  "unevaluatedProperties",
  "unevaluatedItems",
  "propertyNames",
];

/**
 * Whether OpenAI takes `schema` with `strict: true`: its root is an object (not a union), and every
 * object in it, definitions included, says `additionalProperties: false` and lists every property
 * as required, with none of UNSUPPORTED_KEYWORDS anywhere. OpenAI's other limits (5000 properties,
 * 10 levels, 1000 enum values) are left to it: such a schema is refused whether strict or not.
 */
export function isOpenAIStrictSchema(schema: Record<string, unknown>): boolean {
  if (schema.type !== "object" || "anyOf" in schema) return false;
  return strictNode(schema);
}

function strictNode(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(strictNode);
  if (typeof node !== "object" || node === null) return true;
  const schema = node as Record<string, unknown>;
  if (UNSUPPORTED_KEYWORDS.some((keyword) => keyword in schema)) return false;
  const properties = schema.properties;
  const isObject = schema.type === "object" || (Array.isArray(schema.type) && schema.type.includes("object"));
  if (isObject || (typeof properties === "object" && properties !== null)) {
    if (schema.additionalProperties !== false) return false;
    const keys = typeof properties === "object" && properties !== null ? Object.keys(properties) : [];
    const required = Array.isArray(schema.required) ? schema.required : [];
    if (!keys.every((key) => required.includes(key))) return false;
  }
  for (const key of ["properties", "$defs", "definitions"]) {
    const map = schema[key];
    if (typeof map === "object" && map !== null && !Object.values(map).every(strictNode)) return false;
  }
  for (const key of ["items", "anyOf", "prefixItems"]) {
    if (key in schema && !strictNode(schema[key])) return false;
  }
  return true;
}

/**
 * The `strict` an OpenAI-compatible target is sent for an output schema: the client's own, or for a
 * client whose API always holds the answer to the schema (ResponseFormat.strict "where-possible"),
 * true when OpenAI takes the schema so and false when it does not (openAIStrictUnsent names that).
 */
export function openAIStrict(format: Extract<ResponseFormat, { type: "json_schema" }>): boolean | undefined {
  if (format.strict !== "where-possible") return format.strict;
  return isOpenAIStrictSchema(format.schema);
}

/**
 * For x-tandem-warnings: the strict adherence an output schema asked for (ResponseFormat.strict
 * "where-possible") that an OpenAI-compatible target is not asked for, the schema being outside
 * OpenAI's strict subset: the answer is held to it best-effort (and by the route's quality check).
 */
export function openAIStrictUnsent(request: ChatRequest): string[] {
  const format = request.responseFormat;
  if (format?.type !== "json_schema" || format.strict !== "where-possible" || isOpenAIStrictSchema(format.schema)) return [];
  return [
    "strict adherence to the output schema (sent with strict: false, best-effort: the schema is outside OpenAI's strict subset, which needs additionalProperties: false and every property required)",
  ];
}
