import type { RestorerSource } from "./openai-chunk-restorer.js";

/** Deeper than any upstream's frame nests an `arguments` field (a Response's output items: 4 levels). */
const MAX_DEPTH = 8;

/**
 * An upstream's JSON frame with its placeholders restored in place (rehydrateJson), where a tool
 * call's `arguments` is JSON text inside a string (OpenAI's chat completions and the Responses API):
 * there a value is escaped for that text as well as for the frame, so `a"b` stays valid JSON inside
 * valid JSON. A frame with no placeholder comes back as it was, unparsed.
 */
export function rehydrateJsonFrame(source: RestorerSource, data: string, parsed?: unknown): string {
  const restored = source.rehydrateJson(data);
  if (restored === data) return data;
  let value = parsed;
  if (value === undefined) {
    try {
      value = JSON.parse(data);
    } catch {
      return restored;
    }
  }
  return restoreArguments(source, value, 0) ? source.rehydrateJson(JSON.stringify(value)) : restored;
}

/** Restores each `arguments` string below `value` as JSON text, in place; whether any changed. */
function restoreArguments(source: RestorerSource, value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return false;
  let changed = false;
  for (const [key, field] of Object.entries(value)) {
    if (key === "arguments" && typeof field === "string") {
      const restored = source.rehydrateJson(field);
      if (restored !== field) {
        (value as Record<string, unknown>)[key] = restored;
        changed = true;
      }
    } else if (restoreArguments(source, field, depth + 1)) changed = true;
  }
  return changed;
}
