import { encodeHeaderValue } from "../../mcp-protocol/index.js";

/*
 * 2026-07-28's `x-mcp-header` (basic/transports/streamable-http, "Custom Headers from Tool
 * Parameters"): a tool's input schema may mark a property to be mirrored into an
 * `Mcp-Param-{Name}` header of each call, which a client over Streamable HTTP MUST send, and a tool
 * whose marks break the rules MUST be left out of the list.
 */

/** One mirrored argument: the header's name part and the property path (`properties` keys) of its value. */
export interface ParamHeader {
  name: string;
  path: string[];
}

const ANNOTATION = "x-mcp-header";
/** RFC 9110's token (`1*tchar`). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVES = new Set(["string", "integer", "boolean"]);
/** Schema depth walked at most: a deeper schema is taken as invalid rather than walked without end. */
const MAX_DEPTH = 32;

/**
 * The `x-mcp-header` marks of a tool's input schema, or why they make the tool invalid: a name that
 * is empty, not a token or not unique (case-insensitively); a property not of type string, integer
 * or boolean; a mark not reached from the root through `properties` alone (under `items`, `anyOf`,
 * `$defs`...).
 */
export function paramHeaders(inputSchema: unknown): ParamHeader[] | { invalid: string } {
  const found: ParamHeader[] = [];
  const seen = new Set<string>();
  let problem: string | undefined;
  const walk = (schema: Record<string, unknown>, path: string[]): void => {
    if (problem !== undefined) return;
    if (path.length > MAX_DEPTH) {
      problem = "its input schema is nested too deep";
      return;
    }
    const properties = schema.properties;
    if (!isObject(properties)) return;
    for (const [key, property] of Object.entries(properties)) {
      if (!isObject(property)) continue;
      const at = [...path, key];
      if (Object.hasOwn(property, ANNOTATION)) {
        const name = property[ANNOTATION];
        if (typeof name !== "string" || !TOKEN.test(name)) {
          problem = `${ANNOTATION} of '${at.join(".")}' is not a header name token`;
          return;
        }
        if (seen.has(name.toLowerCase())) {
          problem = `${ANNOTATION} '${name}' is used twice`;
          return;
        }
        if (typeof property.type !== "string" || !PRIMITIVES.has(property.type)) {
          problem = `${ANNOTATION} '${name}' marks '${at.join(".")}', which is not of type string, integer or boolean`;
          return;
        }
        seen.add(name.toLowerCase());
        found.push({ name, path: at });
      }
      walk(property, at);
    }
  };
  if (isObject(inputSchema)) walk(inputSchema, []);
  if (problem !== undefined) return { invalid: problem };
  // Every mark anywhere in the schema must be one found through `properties` alone.
  if (countMarks(inputSchema, false, 0) > found.length) {
    return { invalid: `${ANNOTATION} is used where only a chain of properties may lead (items, anyOf, $ref...)` };
  }
  return found;
}

/** The `Mcp-Param-*` headers of one call: each mirrored argument present in `args`, encoded as the spec says. */
export function paramHeaderValues(headers: readonly ParamHeader[], args: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const header of headers) {
    let value: unknown = args;
    for (const key of header.path) value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    if (typeof value === "string") out[`mcp-param-${header.name}`] = encodeHeaderValue(value);
    else if (typeof value === "boolean") out[`mcp-param-${header.name}`] = String(value);
    else if (typeof value === "number" && Number.isSafeInteger(value)) out[`mcp-param-${header.name}`] = String(value);
  }
  return out;
}

/** How many objects of a schema carry the mark (a `properties` map's own keys are property names, not marks). */
function countMarks(value: unknown, isPropertiesMap: boolean, depth: number): number {
  if (depth > MAX_DEPTH * 2) return Number.POSITIVE_INFINITY;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + countMarks(item, false, depth + 1), 0);
  if (!isObject(value)) return 0;
  let count = !isPropertiesMap && Object.hasOwn(value, ANNOTATION) ? 1 : 0;
  for (const [key, child] of Object.entries(value)) {
    count += countMarks(child, !isPropertiesMap && key === "properties", depth + 1);
  }
  return count;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
