import { invalidParam } from "./state-api-error.js";

const MAX_KEYS = 16;
const MAX_KEY_LENGTH = 64;
const MAX_VALUE_LENGTH = 512;

/**
 * The entries of an object OpenAI bounds as it bounds `metadata` (also a file's `attributes`): at
 * most 16 properties, keys up to 64 characters. A 400 naming `param` otherwise.
 */
export function parseBoundedObject(value: unknown, param: string): Array<[string, unknown]> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidParam(
      param,
      `Invalid type for '${param}': expected an object, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_KEYS) {
    throw invalidParam(
      param,
      `Invalid '${param}': too many properties. Expected an object with at most ${MAX_KEYS} properties, but got an object with ${entries.length} properties instead.`,
      "object_above_max_properties",
    );
  }
  for (const [key] of entries) {
    if (key.length > MAX_KEY_LENGTH) {
      throw invalidParam(
        param,
        `Invalid '${param}': key too long. Expected keys with a maximum length of ${MAX_KEY_LENGTH}, but got a key with length ${key.length} instead.`,
        "string_above_max_length",
      );
    }
  }
  return entries;
}

/**
 * OpenAI's `metadata`: up to 16 string values, keys up to 64 characters, values up to 512. Absent
 * or null is `{}`. Errors name the field as OpenAI does (`metadata`, `metadata.<key>`).
 */
export function parseMetadata(value: unknown, param = "metadata"): Record<string, string> {
  if (value === undefined || value === null) return {};
  const out: Record<string, string> = {};
  for (const [key, v] of parseBoundedObject(value, param)) {
    if (typeof v !== "string") {
      throw invalidParam(
        `${param}.${key}`,
        `Invalid type for '${param}.${key}': expected a string, but got ${typeOf(v)} instead.`,
        "invalid_type",
      );
    }
    if (v.length > MAX_VALUE_LENGTH) {
      throw invalidParam(
        `${param}.${key}`,
        `Invalid '${param}.${key}': string too long. Expected a string with maximum length ${MAX_VALUE_LENGTH}, but got a string with length ${v.length} instead.`,
        "string_above_max_length",
      );
    }
    out[key] = v;
  }
  return out;
}

export function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
