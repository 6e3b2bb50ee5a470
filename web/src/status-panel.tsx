import { useRef, useState } from "preact/hooks";
import { ApiError, getJson, getText } from "./api.js";
import { count, duration, ms, percent, time } from "./format.js";
import { readCounters, TrafficHistory, type TrafficSeries } from "./traffic.js";
import { TrafficChart } from "./traffic-chart.js";
import { usePolling } from "./use-polling.js";
import type { McpServerStatus, Status, TargetStatus } from "./wire.js";

const POLL_MS = 2000;

interface PanelProps {
  apiKey: string | undefined;
  onUnauthorized(message: string): void;
  /** Told the targets' names after each refresh (the audit's filter offers them). */
  onTargets(names: string[]): void;
}

/** Targets, routes, MCP servers and traffic, from /v1/status and /metrics, refreshed every 2 s. */
export function StatusPanel({ apiKey, onUnauthorized, onTargets }: PanelProps) {
  const history = useRef(new TrafficHistory());
  const [status, setStatus] = useState<Status | undefined>();
  const [series, setSeries] = useState<TrafficSeries>(() => history.current.series());
  const [tokens, setTokens] = useState<Map<string, { input: number; output: number }>>(new Map());
  const [error, setError] = useState<string | undefined>();
  const [updatedAt, setUpdatedAt] = useState<Date | undefined>();

  usePolling(
    async (signal) => {
      try {
        const [next, metrics] = await Promise.all([
          getJson<Status>("/v1/status", signal, apiKey),
          getText("/metrics", signal, apiKey),
        ]);
        const reading = readCounters(metrics, Date.now() / 1000);
        history.current.add(reading);
        setStatus(next);
        onTargets(next.targets.map((t) => t.target));
        setSeries(history.current.series());
        setTokens(reading.tokens);
        setError(undefined);
        setUpdatedAt(new Date());
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.needsKey) onUnauthorized(err.message);
        else setError(err instanceof Error ? err.message : String(err));
      }
    },
    POLL_MS,
    [apiKey],
  );

  if (!status) {
    return <p class={error ? "error" : "muted"}>{error ?? "Loading…"}</p>;
  }
  return (
    <div>
      <p class="summary">
        tandem {status.version} · up {duration(status.uptimeSeconds)} ·{" "}
        {status.network.offline ? (
          <span class="bad">network down since {time(status.network.since)} (routes serve locally)</span>
        ) : (
          "network up"
        )}
        {updatedAt && <span class="muted"> · updated {updatedAt.toLocaleTimeString()}</span>}
      </p>
      {error !== undefined && (
        <p class="error" role="alert">
          Refresh failed: {error}
        </p>
      )}
      <section>
        <h2>Traffic</h2>
        <TrafficChart data={series} />
        <p class="muted small">
          Requests that reached a model, per second, and the mean time to the first token, between refreshes (kept in this page
          only: the last 5 minutes while it is open).
        </p>
      </section>
      <section>
        <h2>Targets</h2>
        <TargetTable targets={status.targets} tokens={tokens} />
      </section>
      <section>
        <h2>Routes</h2>
        {status.routes.length === 0 ? (
          <p class="muted">No routes.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>route</th>
                <th>tiers, in order</th>
                <th>privacy</th>
                <th>when every tier fails</th>
                <th>tools</th>
              </tr>
            </thead>
            <tbody>
              {status.routes.map((route) => (
                <tr key={route.name}>
                  <td class="name">{route.name}</td>
                  <td>
                    <ol class="tiers">
                      {route.tiers.map((tier) => (
                        <li key={tier}>{tier}</li>
                      ))}
                    </ol>
                  </td>
                  <td>{route.privacy ?? "–"}</td>
                  <td>{route.onExhausted}</td>
                  <td>{route.tools?.join(", ") ?? "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section>
        <h2>Providers</h2>
        <table>
          <thead>
            <tr>
              <th>provider</th>
              <th>kind</th>
              <th>address</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {status.providers.map((provider) => (
              <tr key={provider.name}>
                <td class="name">{provider.name}</td>
                <td>{provider.kind}</td>
                <td>{provider.baseUrl ?? "this machine"}</td>
                <td class={provider.available ? "" : "bad"}>
                  {provider.available ? "available" : (provider.reason ?? "unavailable")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {status.mcp && <McpSection servers={status.mcp.servers} requestConnections={status.mcp.requestConnections} />}
    </div>
  );
}

function TargetTable({ targets, tokens }: { targets: TargetStatus[]; tokens: Map<string, { input: number; output: number }> }) {
  if (targets.length === 0) return <p class="muted">No targets.</p>;
  return (
    <table class="targets">
      <thead>
        <tr>
          <th>target</th>
          <th>health</th>
          <th>breaker</th>
          <th>requests</th>
          <th>error rate</th>
          <th>TTFT</th>
          <th>latency</th>
          <th>tokens in / out</th>
          <th>last error</th>
        </tr>
      </thead>
      <tbody>
        {targets.map((t) => {
          const used = tokens.get(t.target);
          return (
            <tr key={t.target} data-target={t.target}>
              <td class="name">{t.target}</td>
              <td>
                <span class={`badge ${t.health}`} data-health={t.health}>
                  {t.health}
                </span>
                {t.reason !== undefined && <div class="muted small">{t.reason}</div>}
              </td>
              <td class={t.breaker === "closed" ? "" : "bad"}>{t.breaker}</td>
              <td data-field="requests">{count(t.requests)}</td>
              <td>{percent(t.errorRate)}</td>
              <td>{ms(t.ttftMs)}</td>
              <td>{ms(t.latencyMs)}</td>
              <td>{used ? `${count(used.input)} / ${count(used.output)}` : "–"}</td>
              <td class="last-error">
                {t.lastError ? (
                  <>
                    <span class="bad">
                      {t.lastError.code} ({t.lastError.status})
                    </span>{" "}
                    {t.lastError.message}
                    <div class="muted small">{time(t.lastError.at)}</div>
                  </>
                ) : (
                  "–"
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function McpSection({ servers, requestConnections }: { servers: McpServerStatus[]; requestConnections: number }) {
  return (
    <section>
      <h2>MCP servers</h2>
      {servers.length === 0 ? (
        <p class="muted">None configured (mcp.servers).</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>server</th>
              <th>transport</th>
              <th>state</th>
              <th>tools</th>
              <th>last error</th>
            </tr>
          </thead>
          <tbody>
            {servers.map((server) => (
              <tr key={server.label}>
                <td class="name">{server.label}</td>
                <td>{server.transport}</td>
                <td>{server.connected ? "connected" : "not connected (connects on first use)"}</td>
                <td>{server.tools ?? "–"}</td>
                <td>
                  {server.lastError ? (
                    <>
                      <span class="bad">{server.lastError.message}</span>
                      <div class="muted small">{time(server.lastError.at)}</div>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="muted small">Servers named by URL in requests, connected now: {requestConnections}</p>
    </section>
  );
}
