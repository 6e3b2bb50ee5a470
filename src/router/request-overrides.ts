import type { IncomingHttpHeaders } from "node:http";
import { GatewayError } from "../core/index.js";
import type { Target } from "./catalog.js";

export type Preference = "local" | "cloud" | "fast" | "cheap";

/** What a client may change per request with `x-tandem-*` headers. */
export interface RequestOverrides {
  /** `x-tandem-route`: use this route whatever `model` says (for clients that cannot change the model name). */
  route?: string;
  /** `x-tandem-prefer`: reorder the route's targets (local first, cloud first, fastest first; cheap keeps the configured order). */
  prefer?: Preference;
  /** `x-tandem-deadline-ms`: an upper bound on the whole request, across all attempts. */
  deadlineMs?: number;
}

const PREFERENCES = new Set<string>(["local", "cloud", "fast", "cheap"]);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the override headers; a malformed one is a 400 that names it. */
export function readOverrides(headers: IncomingHttpHeaders): RequestOverrides {
  const out: RequestOverrides = {};
  const route = header(headers, "x-tandem-route")?.trim();
  if (route) out.route = route;
  const prefer = header(headers, "x-tandem-prefer")?.trim().toLowerCase();
  if (prefer) {
    if (!PREFERENCES.has(prefer)) {
      throw new GatewayError(
        "invalid_request",
        `Invalid header 'x-tandem-prefer': expected local, cloud, fast or cheap, got '${prefer}'`,
        {
          param: "x-tandem-prefer",
        },
      );
    }
    out.prefer = prefer as Preference;
  }
  const deadline = header(headers, "x-tandem-deadline-ms")?.trim();
  if (deadline !== undefined) {
    // Plain decimal digits only: Number() would also read `0x10` (16 ms), `1e3`, `+100` and an empty
    // value (0), so a client's typo could silently become another deadline, or none.
    const ms = /^[0-9]+$/.test(deadline) ? Number(deadline) : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      throw new GatewayError(
        "invalid_request",
        `Invalid header 'x-tandem-deadline-ms': expected a positive whole number of milliseconds, got '${deadline}'`,
        {
          param: "x-tandem-deadline-ms",
        },
      );
    }
    out.deadlineMs = ms;
  }
  return out;
}

/**
 * Reorders a plan's tiers for a preference. local/cloud: the preferred kind of target comes first,
 * as one tier, and the rest keep their tiers; fast: within each tier, the lowest observed time to
 * first token first (targets not yet measured after those that were); cheap: the configured order,
 * which lists cheaper tiers first by convention.
 */
export function applyPreference(
  tiers: Target[][],
  prefer: Preference | undefined,
  ttftMs: (target: string) => number | undefined,
): Target[][] {
  if (prefer === "local" || prefer === "cloud") {
    const wanted = (t: Target) => t.local === (prefer === "local");
    const first = tiers.flat().filter(wanted);
    const rest = tiers.map((tier) => tier.filter((t) => !wanted(t))).filter((tier) => tier.length > 0);
    return first.length > 0 ? [first, ...rest] : rest;
  }
  if (prefer === "fast") {
    const key = (t: Target) => ttftMs(t.name) ?? Number.POSITIVE_INFINITY;
    return tiers.map((tier) => [...tier].sort((x, y) => key(x) - key(y)));
  }
  return tiers;
}
