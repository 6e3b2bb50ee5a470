import type { z } from "zod";

/*
 * Every object of the config schema is strict: a key it does not know is a config error rather than
 * silently ignored, since a misspelt key (`baseURL` for `baseUrl`) would otherwise leave its field at
 * the default (a provider's key and prompts sent to api.openai.com). These helpers word that error.
 */

/**
 * The zod error map the config is parsed with: an unknown key is named with the known key nearest to
 * it. Other issues keep zod's own wording (or the schema's).
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== "unrecognized_keys") return undefined;
  const key = issue.keys[0] ?? "";
  const known = knownKeys(issue.inst);
  const nearest = nearestKey(key, known);
  if (nearest !== undefined) return `unknown key; did you mean ${nearest}?`;
  return known.length > 0 ? `unknown key (expected one of: ${known.join(", ")})` : "unknown key";
};

/** The path of an issue as the user wrote it: an unknown key's issue is the object's, so its (first) key is added. */
export function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  return issue.code === "unrecognized_keys" && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
}

/** The keys an object schema declares (none for anything else). */
function knownKeys(schema: unknown): string[] {
  const shape = (schema as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * The known key a typo most likely meant: the same but for case, else the closest within a third of
 * its length in edits (at least 2), so `apikeys` finds apiKeys and `prot` finds port, but an unrelated
 * key finds nothing.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameButCase = known.find((k) => k.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
