import { GatewayError } from "../../core/index.js";

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Ollama's `keep_alive` -> milliseconds: a number is seconds, a string is a Go duration ("5m",
 * "1h30m", "300ms"; a bare number string is seconds too). Negative means keep loaded forever (-1),
 * 0 unload at once. Undefined when the request does not say.
 */
export function parseOllamaKeepAlive(value: string | number | null | undefined): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  let ms: number;
  if (typeof value === "number") ms = value * 1000;
  else if (/^\s*-?\d+(\.\d+)?\s*$/.test(value)) ms = Number(value) * 1000;
  else ms = goDurationMs(value);
  if (!Number.isFinite(ms)) throw invalid(value);
  return ms < 0 ? -1 : Math.round(ms);
}

function goDurationMs(text: string): number {
  const match = /^\s*(-)?((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)\s*$/.exec(text);
  if (!match) throw invalid(text);
  let ms = 0;
  for (const [, amount, unit] of (match[2] as string).matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return match[1] ? -ms : ms;
}

function invalid(value: unknown): GatewayError {
  return new GatewayError(
    "invalid_request",
    `Invalid value for 'keep_alive': ${JSON.stringify(value)} is not a duration (e.g. "5m", "1h", 300, -1)`,
    { param: "keep_alive" },
  );
}

/** `{ keepAliveMs }` when the request said, else nothing (so requests that did not say stay as they were). */
export function keepAliveField(keepAliveMs: number | undefined): { keepAliveMs?: number } {
  return keepAliveMs === undefined ? {} : { keepAliveMs };
}
