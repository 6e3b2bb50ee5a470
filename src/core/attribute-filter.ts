/**
 * The filters of a vector store search and of the `file_search` tool (OpenAI's `ComparisonFilter`
 * and `CompoundFilter`), over a vector store file's `attributes`. Pure, so the HTTP search, the
 * tool and both stores read them one way.
 */

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

export interface ComparisonFilter {
  type: "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "nin";
  key: string;
  value: AttributeValue | (string | number)[];
}

export interface CompoundFilter {
  type: "and" | "or";
  filters: AttributeFilter[];
}

export type AttributeFilter = ComparisonFilter | CompoundFilter;

/**
 * Whether a file's attributes pass the filter. A comparison with a key the file has not, or of a
 * value of another type (a number against a string), does not pass (`ne` and `nin` included: as
 * OpenAI's, a filter only matches files that carry the attribute).
 */
export function matchesAttributeFilter(attributes: Attributes | undefined, filter: AttributeFilter): boolean {
  if ("filters" in filter) {
    const each = (f: AttributeFilter) => matchesAttributeFilter(attributes, f);
    return filter.type === "and" ? filter.filters.every(each) : filter.filters.some(each);
  }
  const actual = attributes?.[filter.key];
  if (actual === undefined) return false;
  const value = filter.value;
  switch (filter.type) {
    case "in":
    case "nin": {
      const list = Array.isArray(value) ? value : [value];
      const found = list.some((v) => v === actual);
      return filter.type === "in" ? found : !found;
    }
    case "eq":
      return actual === value;
    case "ne":
      return !Array.isArray(value) && typeof actual === typeof value && actual !== value;
    default: {
      if (Array.isArray(value) || typeof actual !== typeof value || typeof actual === "boolean") return false;
      const a = actual as string | number;
      const b = value as string | number;
      if (filter.type === "gt") return a > b;
      if (filter.type === "gte") return a >= b;
      if (filter.type === "lt") return a < b;
      return a <= b;
    }
  }
}
