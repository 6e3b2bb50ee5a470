import { redactSecrets } from "../core/index.js";
import type { McpServerStatus } from "../harness/tools/mcp/index.js";
import type { Catalog, ProviderUsability } from "../router/catalog.js";
import type { BreakerState } from "../router/circuit-breaker.js";
import type { HealthMonitor } from "../router/health-monitor.js";
import type { TargetSnapshot, TargetStats } from "../telemetry/target-stats.js";
import { VERSION } from "../version.js";

export type Health = "healthy" | "unhealthy" | "unknown" | "unavailable";

export interface TargetStatus extends TargetSnapshot {
  target: string;
  provider: string;
  health: Health;
  breaker: BreakerState;
  reason?: string;
}

/** The JSON of GET /v1/status: what every provider, target and route is doing. */
export interface StatusSources {
  catalog: Catalog;
  /** Whether each provider could answer now, and why not (Catalog.usability). */
  usability: ReadonlyMap<string, ProviderUsability>;
  stats: TargetStats;
  health: HealthMonitor;
  breakerState: (target: string) => BreakerState;
  startedAt: number;
  /** Since when the network is taken for down (routes serve locally); undefined while up. */
  offlineSince?: number;
  /** The configured MCP servers' state (the tool loop's host), when the server has one. */
  mcp?: () => McpStatus;
}

/** What /v1/status shows of the MCP servers: each configured one, and how many servers requests named by URL are connected. */
export interface McpStatus {
  servers: McpServerStatus[];
  requestConnections: number;
}

export function statusSnapshot({ catalog, usability, stats, health, breakerState, startedAt, offlineSince, mcp }: StatusSources) {
  const healthOf = (s: TargetSnapshot, breaker: BreakerState, provider: string): Health => {
    if (breaker === "open" || !health.isHealthy(provider)) return "unhealthy";
    if (s.requests === 0) return "unknown";
    return s.errorRate >= 0.5 ? "unhealthy" : "healthy";
  };
  const targets: TargetStatus[] = [];
  const seen = new Set<string>();
  for (const entry of catalog.entries()) {
    if (entry.kind !== "target" || !entry.provider) continue;
    seen.add(entry.name);
    const slot = catalog.slots.get(entry.provider);
    const snap = stats.snapshot(entry.name);
    const unavailable = slot && !slot.provider ? slot.unavailable : undefined;
    targets.push({
      target: entry.name,
      provider: entry.provider,
      health: unavailable ? "unavailable" : healthOf(snap, breakerState(entry.name), entry.provider),
      breaker: breakerState(entry.name),
      ...(unavailable ? { reason: unavailable } : {}),
      ...snap,
    });
  }
  // Targets named directly that the model list does not show (e.g. discovery failed) still get a line:
  // those tracked (TrackedTargets), and one `<provider>/other` for the provider's other names.
  for (const name of stats.targets()) {
    if (seen.has(name)) continue;
    const snap = stats.snapshot(name);
    const breaker = breakerState(name);
    const provider = name.slice(0, name.indexOf("/"));
    targets.push({ target: name, provider, health: healthOf(snap, breaker, provider), breaker, ...snap });
  }
  return {
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    network: offlineSince === undefined ? { offline: false } : { offline: true, since: new Date(offlineSince).toISOString() },
    providers: [...catalog.slots.values()].map((slot) => ({
      name: slot.name,
      kind: slot.config.kind,
      // A base URL may carry credentials (https://user:key@proxy, ?key=...): shown without them.
      baseUrl: "baseUrl" in slot.config ? redactSecrets(slot.config.baseUrl) : undefined,
      // Usable now: built, with a key that resolves where it names keys, a readable model file for an engine.
      ...availability(slot, usability.get(slot.name)),
      probe: health.result(slot.name) ?? null,
      // Key references only (e.g. env:OPENAI_API_KEY), never the keys.
      keys: "apiKeys" in slot.config ? slot.config.apiKeys : [],
      ...(slot.provider?.engineState
        ? { engine: slot.provider.engineState(), loaded: slot.provider.loadedModels?.() ?? [] }
        : {}),
    })),
    targets,
    routes: [...catalog.routes.entries()].map(([name, r]) => ({
      name,
      tiers: r.tiers,
      privacy: r.privacy ?? null,
      onExhausted: r.onExhausted,
      ...(r.tools !== undefined && { tools: r.tools }),
      // Memory on: how many memories it recalls and its lowest score (unset: the top-level defaults), and its tools.
      ...(r.memory !== undefined && { memory: r.memory }),
    })),
    ...(mcp !== undefined && { mcp: mcp() }),
  };
}

/** `available` and, when it is false, the `reason` (a key reference, never a key). */
function availability(
  slot: { provider?: unknown; unavailable?: string },
  usability: ProviderUsability | undefined,
): { available: boolean; reason?: string } {
  if (usability === undefined) {
    return slot.provider !== undefined ? { available: true } : { available: false, reason: slot.unavailable ?? "unavailable" };
  }
  return usability.usable ? { available: true } : { available: false, reason: usability.reason };
}
