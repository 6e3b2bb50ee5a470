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

/** One of OpenAI's lists, as the state lists answer (src/dialects/openai/state/render-item-list.ts). */
export interface OpenAIList<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** GET /v1/conversations (tandem's list; src/dialects/openai/register-state-list-routes.ts). */
export interface ConversationEntry {
  id: string;
  created_at: number;
  updated_at: number;
  item_count: number;
  preview: string | null;
  metadata: Record<string, string>;
}

/** GET /v1/responses (tandem's list): a summary of each stored response. */
export interface ResponseEntry {
  id: string;
  created_at: number;
  model: string | null;
  status: string | null;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  input_preview: string | null;
  output_preview: string | null;
}

/** A chat message as a stored completion's choices and GET /v1/chat/completions/{id}/messages give it. */
export interface ChatMessage {
  role?: string;
  content?: unknown;
  refusal?: string | null;
  tool_calls?: { type?: string; function?: { name?: string; arguments?: string } }[] | null;
  tool_call_id?: string;
}

/** GET /v1/chat/completions: each stored completion as the client got it. */
export interface ChatCompletionEntry {
  id: string;
  created: number;
  model: string;
  choices: { index: number; message: ChatMessage }[];
  metadata: Record<string, string> | null;
}

/** A Responses API item, as a conversation's or a response's items list gives it. */
export interface StateItem {
  id?: string;
  type: string;
  [field: string]: unknown;
}
