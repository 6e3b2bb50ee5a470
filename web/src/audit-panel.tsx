import { useState } from "preact/hooks";
import { ApiError, getJson } from "./api.js";
import { bytes, time } from "./format.js";
import { usePolling } from "./use-polling.js";
import type { AuditPage, AuditRow } from "./wire.js";

const PAGE_SIZE = 50;
const POLL_MS = 3000;
const SINCE_CHOICES = [
  ["", "any time"],
  ["1h", "last hour"],
  ["24h", "last 24 hours"],
  ["7d", "last 7 days"],
  ["30d", "last 30 days"],
] as const;

interface Filters {
  target: string;
  since: string;
}

interface AuditPanelProps {
  apiKey: string | undefined;
  /** Targets the status knows, offered in the filter. */
  targets: readonly string[];
  onUnauthorized(message: string): void;
}

/**
 * What left the machine (GET /v1/audit), newest first, filtered by target and time and paged with
 * its `after` cursor. The first page refreshes itself; older pages stay as they were read.
 */
export function AuditPanel({ apiKey, targets, onUnauthorized }: AuditPanelProps) {
  const [filters, setFilters] = useState<Filters>({ target: "", since: "" });
  const [draft, setDraft] = useState<Filters>(filters);
  // The cursors of the pages before this one (empty on the first page), and this page's.
  const [cursors, setCursors] = useState<number[]>([]);
  const after = cursors.at(-1);
  const [page, setPage] = useState<AuditPage | undefined>();
  const [error, setError] = useState<string | undefined>();

  usePolling(
    async (signal) => {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (filters.target !== "") query.set("target", filters.target);
      if (filters.since !== "") query.set("since", filters.since);
      if (after !== undefined) query.set("after", String(after));
      try {
        setPage(await getJson<AuditPage>(`/v1/audit?${query}`, signal, apiKey));
        setError(undefined);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.needsKey) onUnauthorized(err.message);
        else setError(err instanceof Error ? err.message : String(err));
      }
    },
    // Older pages do not change: read once.
    after === undefined ? POLL_MS : undefined,
    [apiKey, filters.target, filters.since, after],
  );

  return (
    <div>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setCursors([]);
          setPage(undefined);
          setFilters(draft);
        }}
      >
        <label>
          target{" "}
          <input
            list="audit-targets"
            name="target"
            placeholder="any"
            value={draft.target}
            onInput={(event) => setDraft({ ...draft, target: event.currentTarget.value.trim() })}
          />
          <datalist id="audit-targets">
            {targets.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>{" "}
        <label>
          since{" "}
          <select name="since" value={draft.since} onChange={(event) => setDraft({ ...draft, since: event.currentTarget.value })}>
            {SINCE_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>{" "}
        <button type="submit">Apply</button>
      </form>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page === undefined ? (
        error === undefined && <p class="muted">Loading…</p>
      ) : page.data.length === 0 ? (
        <p class="muted" data-empty="audit">
          Nothing left the machine{filters.target || filters.since ? " that matches these filters" : ""}.
        </p>
      ) : (
        <AuditTable rows={page.data} />
      )}
      <nav class="pager">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors([])}>
          Newest
        </button>{" "}
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>{" "}
        <button
          type="button"
          disabled={!page?.has_more || page.last_id === null || page.last_id === undefined}
          onClick={() => page?.last_id != null && setCursors([...cursors, page.last_id])}
        >
          Older →
        </button>
        <span class="muted small"> page {cursors.length + 1}</span>
      </nav>
      <p class="muted small">
        Each row is a body sent (or about to be sent) to a target off this machine: its SHA-256 and length, never its content.
        “not sent”: the connection was never made.
      </p>
    </div>
  );
}

function AuditTable({ rows }: { rows: AuditRow[] }) {
  return (
    <table class="audit">
      <thead>
        <tr>
          <th>time</th>
          <th>target</th>
          <th>route</th>
          <th>sensitivity</th>
          <th>redacted</th>
          <th>bytes</th>
          <th>sha256</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} data-audit-id={row.id}>
            <td>{time(row.time)}</td>
            <td class="name" data-field="target">
              {row.target}
            </td>
            <td data-field="route">{row.route ?? "–"}</td>
            <td class={row.sensitivity === "public" ? "" : "warn"}>{row.sensitivity}</td>
            <td>
              {Object.entries(row.redactions)
                .map(([kind, n]) => `${kind} ×${n}`)
                .join(", ") || "–"}
            </td>
            <td>
              {bytes(row.bytes)}
              {!row.sent && <span class="muted"> (not sent)</span>}
            </td>
            <td class="hash" title={row.sha256}>
              {row.sha256.slice(0, 12)}…
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
