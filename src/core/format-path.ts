/** Formats a validation issue's path the way clients write it: `messages[0].content`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** How many segments of a path an error names: enough to show the field, not a hundred levels of it. */
const PATH_SHOWN = 6;

/**
 * A path as an error names it: `shown`, its first segments formatted (the error's `param`), and
 * `more`, `…` when the path goes on past them (for the message).
 */
export function shownPath(path: readonly PropertyKey[]): { shown: string; more: string } {
  return { shown: formatPath(path.slice(0, PATH_SHOWN)), more: path.length > PATH_SHOWN ? "…" : "" };
}
