import type { AttributeFilter, Attributes } from "../../../core/attribute-filter.js";
import type { ChunkingStrategy } from "../../../core/vector-stores.js";
import { invalidParam, parseBoundedObject, typeOf } from "../state/index.js";

/**
 * The fields the Vector Stores API (and the `file_search` tool) share, checked as OpenAI checks them:
 * a bad one is a 400 naming it (`param`) with OpenAI's code.
 */

/** An attribute key's longest, as parseBoundedObject bounds it: a filter's key is held to it too. */
const MAX_ATTRIBUTE_KEY = 64;
const MAX_ATTRIBUTE_STRING = 512;
/** Filters nested deeper than this are refused (a bound on the work one search does). */
const MAX_FILTER_DEPTH = 8;
/** Comparisons in one filter, all levels together. */
const MAX_FILTER_NODES = 256;

export function parseObject(value: unknown, param: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidParam(
      param,
      `Invalid type for '${param}': expected an object, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  return value as Record<string, unknown>;
}

export function parseString(value: unknown, param: string, maxLength = 1_000_000): string {
  if (value === undefined) {
    throw invalidParam(param, `Missing required parameter: '${param}'.`, "missing_required_parameter");
  }
  if (typeof value !== "string") {
    throw invalidParam(
      param,
      `Invalid type for '${param}': expected a string, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  if (value.length > maxLength) {
    throw invalidParam(
      param,
      `Invalid '${param}': string too long. Expected a string with maximum length ${maxLength}, but got a string with length ${value.length} instead.`,
      "string_above_max_length",
    );
  }
  return value;
}

export function parseInteger(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidParam(
      param,
      `Invalid type for '${param}': expected an integer, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  if (value < min) {
    throw invalidParam(
      param,
      `Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
      "integer_below_min_value",
    );
  }
  if (value > max) {
    throw invalidParam(
      param,
      `Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
      "integer_above_max_value",
    );
  }
  return value;
}

/** `chunking_strategy`: `{type: "auto"}` (undefined: the default) or `{type: "static", static: {...}}`. */
export function parseChunkingStrategy(value: unknown, param = "chunking_strategy"): ChunkingStrategy | undefined {
  if (value === undefined || value === null) return undefined;
  const o = parseObject(value, param);
  if (o.type === "auto") return undefined;
  if (o.type !== "static") {
    throw invalidParam(
      `${param}.type`,
      `Invalid value: '${String(o.type).slice(0, 100)}'. Supported values are: 'auto' and 'static'.`,
      "invalid_value",
    );
  }
  const fields = parseObject(o.static, `${param}.static`);
  const max = parseInteger(fields.max_chunk_size_tokens, `${param}.static.max_chunk_size_tokens`, 100, 4096);
  const overlap = parseInteger(fields.chunk_overlap_tokens, `${param}.static.chunk_overlap_tokens`, 0, 4096);
  if (overlap > max / 2) {
    throw invalidParam(
      `${param}.static.chunk_overlap_tokens`,
      `Invalid '${param}.static.chunk_overlap_tokens': chunk_overlap_tokens must not exceed half of max_chunk_size_tokens (${max / 2}), but got ${overlap} instead.`,
      "invalid_value",
    );
  }
  return { maxChunkSizeTokens: max, chunkOverlapTokens: overlap };
}

/** A file's `attributes`: bounded as `metadata` is (parseBoundedObject), each a string (up to 512), a number or a boolean. `null` clears them. */
export function parseAttributes(value: unknown, param = "attributes"): Attributes | null {
  if (value === null) return null;
  const out: Attributes = {};
  for (const [key, v] of parseBoundedObject(value, param)) {
    if (typeof v === "string") out[key] = parseString(v, `${param}.${key}`, MAX_ATTRIBUTE_STRING);
    else if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) out[key] = v;
    else {
      throw invalidParam(
        `${param}.${key}`,
        `Invalid type for '${param}.${key}': expected a string, number or boolean, but got ${typeOf(v)} instead.`,
        "invalid_type",
      );
    }
  }
  return out;
}

const COMPARISONS = new Set(["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]);

/** `filters`: a comparison or a compound filter (OpenAI's ComparisonFilter / CompoundFilter). */
export function parseAttributeFilter(value: unknown, param = "filters"): AttributeFilter {
  const budget = { nodes: 0 };
  return filterOf(value, param, 0, budget);
}

function filterOf(value: unknown, param: string, depth: number, budget: { nodes: number }): AttributeFilter {
  if (depth > MAX_FILTER_DEPTH)
    throw invalidParam(param, `Invalid '${param}': filters nested deeper than ${MAX_FILTER_DEPTH} levels.`);
  if (++budget.nodes > MAX_FILTER_NODES) throw invalidParam(param, `Invalid '${param}': more than ${MAX_FILTER_NODES} filters.`);
  const o = parseObject(value, param);
  if (o.type === "and" || o.type === "or") {
    if (!Array.isArray(o.filters)) {
      throw invalidParam(
        `${param}.filters`,
        `Invalid type for '${param}.filters': expected an array, but got ${typeOf(o.filters)} instead.`,
        "invalid_type",
      );
    }
    return { type: o.type, filters: o.filters.map((f, i) => filterOf(f, `${param}.filters[${i}]`, depth + 1, budget)) };
  }
  if (typeof o.type !== "string" || !COMPARISONS.has(o.type)) {
    throw invalidParam(
      `${param}.type`,
      `Invalid value: '${String(o.type).slice(0, 100)}'. Supported values are: 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'and' and 'or'.`,
    );
  }
  const key = parseString(o.key, `${param}.key`, MAX_ATTRIBUTE_KEY);
  const v = o.value;
  const scalar = (x: unknown) => typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x));
  const list =
    Array.isArray(v) &&
    v.length <= 1000 &&
    v.every((x) => typeof x === "string" || (typeof x === "number" && Number.isFinite(x)));
  // `in` and `nin` test membership of a list (ComparisonFilter's "in array").
  if ((o.type === "in" || o.type === "nin") && !list) {
    throw invalidParam(
      `${param}.value`,
      `Invalid type for '${param}.value': '${o.type}' expects an array of strings and numbers, but got ${typeOf(v)} instead.`,
      "invalid_type",
    );
  }
  if (!scalar(v) && !list) {
    throw invalidParam(
      `${param}.value`,
      `Invalid type for '${param}.value': expected a string, number, boolean or an array of strings and numbers, but got ${typeOf(v)} instead.`,
      "invalid_type",
    );
  }
  return { type: o.type as "eq", key, value: v as string };
}

/** `ranking_options.score_threshold` (0..1; default 0) after checking `ranker`. */
export function parseRankingOptions(value: unknown, param = "ranking_options"): number {
  if (value === undefined || value === null) return 0;
  const o = parseObject(value, param);
  if (o.ranker !== undefined && !["none", "auto", "default-2024-11-15", "default_2024_08_21"].includes(o.ranker as string)) {
    throw invalidParam(
      `${param}.ranker`,
      `Invalid value: '${String(o.ranker).slice(0, 100)}'. Supported values are: 'none', 'auto' and 'default-2024-11-15'.`,
    );
  }
  if (o.score_threshold === undefined) return 0;
  const t = o.score_threshold;
  if (typeof t !== "number" || !(t >= 0 && t <= 1)) {
    throw invalidParam(
      `${param}.score_threshold`,
      `Invalid '${param}.score_threshold': expected a number between 0 and 1, but got ${typeof t === "number" ? t : typeOf(t)} instead.`,
    );
  }
  return t;
}
