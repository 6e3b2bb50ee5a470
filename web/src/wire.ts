/**
 * What the console reads from the server, as the server sends it: GET /v1/status (src/server/status.ts)
 * and GET /v1/audit (src/server/app.ts, src/store/records.ts). Only the fields the console shows.
 */

export type Health = "healthy" | "unhealthy" | "unknown" | "unavailable";
export type BreakerState = "closed" | "open" | "half-open";

export interface TargetStatus {
  target: string;
  provider: string;
  health: Health;
  breaker: BreakerState;
  reason?: string;
  requests: number;
  failures: number;
  errorRate: number;
  ttftMs?: number;
  latencyMs?: number;
  lastError?: { code: string; message: string; status: number; at: string };
  lastSuccessAt?: string;
}

export interface ProviderStatus {
  name: string;
  kind: string;
  baseUrl?: string;
  available: boolean;
  reason?: string;
}

export interface RouteStatus {
  name: string;
  tiers: string[];
  privacy: string | null;
  onExhausted: string;
  tools?: string[];
}

export interface McpServerStatus {
  label: string;
  transport: "http" | "stdio";
  connected: boolean;
  tools?: number;
  lastError?: { message: string; at: string };
}

export interface Status {
  version: string;
  uptimeSeconds: number;
  network: { offline: boolean; since?: string };
  providers: ProviderStatus[];
  targets: TargetStatus[];
  routes: RouteStatus[];
  mcp?: { servers: McpServerStatus[]; requestConnections: number };
}

export interface AuditRow {
  id: number;
  time: string;
  target: string;
  route: string | null;
  sensitivity: string;
  redactions: Record<string, number>;
  sha256: string;
  bytes: number;
  sent: boolean;
}

export interface AuditPage {
  object: "list";
  data: AuditRow[];
  has_more?: boolean;
  last_id?: number | null;
}
