const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A "since" value for audit and log queries: a duration back from now, or a point in time. */
export type SinceValue = { ago: number } | { at: number };

export const SINCE_EXPECTED = "a duration like 30m, 24h, 7d or a date like 2026-01-31T12:00Z";

/** `30m`, `24h`, `7d`, `2w` back from now, or an ISO date/time; undefined when it is neither. */
export function parseSince(text: string): SinceValue | undefined {
  const duration = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (duration) return { ago: Number(duration[1]) * (UNIT_MS[duration[2] as string] ?? 0) };
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : { at };
}

/** The epoch milliseconds a since value stands for, at `now`. */
export function sinceTime(value: SinceValue, now: number): number {
  return "ago" in value ? now - value.ago : value.at;
}
