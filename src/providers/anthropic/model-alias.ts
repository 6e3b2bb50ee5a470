/**
 * Anthropic's model aliases. Its models before the 4.6 generation have dated ids
 * (`claude-sonnet-4-5-20250929`), and its API also takes the id without the date
 * (`claude-sonnet-4-5`), which points at the newest dated snapshot of that version, and for older
 * models a `-latest` form (`claude-3-7-sonnet-latest`). Its model list (GET /v1/models) names only
 * the dated ids, so a name in one of these forms is an alias of the newest listed id it fits
 * (Anthropic's "Model IDs and versioning").
 */
const DATED_ID = /^(.+)-(\d{8})$/;

/** The listed id that `name` is an alias of, or undefined when it is none's. */
export function anthropicAliasTarget(name: string, listed: readonly string[]): string | undefined {
  const base = name.endsWith("-latest") ? name.slice(0, -"-latest".length) : name;
  let newest: { id: string; date: string } | undefined;
  for (const id of listed) {
    const match = DATED_ID.exec(id);
    if (match?.[1] !== base) continue;
    const date = match[2] as string;
    if (newest === undefined || date > newest.date) newest = { id, date };
  }
  return newest?.id;
}
