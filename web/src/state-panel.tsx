import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, deleteJson, getJson } from "./api.js";
import type { ItemText } from "./item-text.js";
import { type EntryRow, STATE_KINDS, type StateKind } from "./state-kinds.js";
import type { OpenAIList } from "./wire.js";

interface StatePanelProps {
  apiKey: string | undefined;
  onUnauthorized(message: string): void;
}

/**
 * What tandem keeps for the user: conversations, stored responses and stored chat completions,
 * newest first, a page at a time. One opened shows its items as text; it can be deleted (asked
 * first) through the API's own DELETE.
 */
export function StatePanel({ apiKey, onUnauthorized }: StatePanelProps) {
  const [kind, setKind] = useState<StateKind>(STATE_KINDS[0]);
  return (
    <div class="state">
      <nav class="tabs subtabs">
        {STATE_KINDS.map((k) => (
          <button type="button" key={k.name} class={k === kind ? "active" : ""} onClick={() => setKind(k)}>
            {k.name}
          </button>
        ))}
      </nav>
      <StateList key={`${kind.name} ${apiKey ?? ""}`} kind={kind} apiKey={apiKey} onUnauthorized={onUnauthorized} />
    </div>
  );
}

interface StateListProps extends StatePanelProps {
  kind: StateKind;
}

function StateList({ kind, apiKey, onUnauthorized }: StateListProps) {
  const [rows, setRows] = useState<EntryRow[] | undefined>();
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [open, setOpen] = useState<string | undefined>();
  const controller = useRef(new AbortController());
  useEffect(() => () => controller.current.abort(), []);

  const failed = (err: unknown): void => {
    if (controller.current.signal.aborted) return;
    if (err instanceof ApiError && err.needsKey) onUnauthorized(err.message);
    else setError(err instanceof Error ? err.message : String(err));
  };

  const load = async (after: string | undefined): Promise<void> => {
    setLoading(true);
    try {
      const page = await getJson<OpenAIList<unknown>>(kind.listPath(after), controller.current.signal, apiKey);
      const more = page.data.map(kind.row);
      setRows((old) => (after === undefined ? more : [...(old ?? []), ...more]));
      setHasMore(page.has_more);
      setError(undefined);
    } catch (err) {
      failed(err);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(undefined);
  }, []);

  const removed = (id: string): void => {
    setRows((old) => old?.filter((row) => row.id !== id));
    setOpen(undefined);
  };

  return (
    <div class="state-list" data-kind={kind.name}>
      <p>
        <button type="button" disabled={loading} onClick={() => void load(undefined)}>
          Refresh
        </button>
      </p>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {rows === undefined ? (
        error === undefined && <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted" data-empty="state">
          No {kind.name.toLowerCase()} stored.
        </p>
      ) : (
        <ul class="entries">
          {rows.map((row) => (
            <li key={row.id} data-entry-id={row.id} class={row.id === open ? "open" : ""}>
              <button type="button" class="entry" onClick={() => setOpen(row.id === open ? undefined : row.id)}>
                <span class="entry-title">{row.title}</span>
                <span class="muted small">
                  {" "}
                  {new Date(row.at * 1000).toLocaleString()} · {[row.id, ...row.details].join(" · ")}
                </span>
              </button>
              {row.id === open && (
                <EntryDetail kind={kind} id={row.id} apiKey={apiKey} onFailed={failed} onDeleted={() => removed(row.id)} />
              )}
            </li>
          ))}
        </ul>
      )}
      {hasMore && rows !== undefined && rows.length > 0 && (
        <button type="button" disabled={loading} onClick={() => void load(rows.at(-1)?.id)}>
          Load more
        </button>
      )}
    </div>
  );
}

interface EntryDetailProps {
  kind: StateKind;
  id: string;
  apiKey: string | undefined;
  onFailed(err: unknown): void;
  onDeleted(): void;
}

/** One entry opened: its items (and its answer) as text, more items on demand, and its delete. */
function EntryDetail({ kind, id, apiKey, onFailed, onDeleted }: EntryDetailProps) {
  const [items, setItems] = useState<ItemText[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [answer, setAnswer] = useState<ItemText[]>([]);
  const [asking, setAsking] = useState(false);
  const controller = useRef(new AbortController());
  useEffect(() => () => controller.current.abort(), []);
  const signal = controller.current.signal;
  // Closed while it was reading: nothing to report.
  const failed = (err: unknown): void => {
    if (!signal.aborted) onFailed(err);
  };

  const more = async (after: string | undefined): Promise<void> => {
    try {
      const page = await kind.items(id, after, signal, apiKey);
      setItems((old) => [...(after === undefined ? [] : (old ?? [])), ...page.items]);
      setNext(page.next);
    } catch (err) {
      failed(err);
    }
  };

  useEffect(() => {
    void more(undefined);
    kind.answer?.(id, signal, apiKey).then(setAnswer, failed);
  }, []);

  const remove = async (): Promise<void> => {
    try {
      await deleteJson(kind.path(id), signal, apiKey);
      onDeleted();
    } catch (err) {
      failed(err);
    }
  };

  return (
    <div class="entry-detail">
      {items === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <h3>{kind.itemsTitle}</h3>
          <ItemList items={items} />
          {next !== undefined && (
            <button type="button" onClick={() => void more(next)}>
              More items
            </button>
          )}
          {answer.length > 0 && (
            <>
              <h3>Answer</h3>
              <ItemList items={answer} />
            </>
          )}
        </>
      )}
      <p class="delete">
        {asking ? (
          <>
            <span>Delete this {kind.one}? This cannot be undone. </span>
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete
            </button>{" "}
            <button type="button" onClick={() => setAsking(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setAsking(true)}>
            Delete…
          </button>
        )}
      </p>
    </div>
  );
}

function ItemList({ items }: { items: ItemText[] }) {
  if (items.length === 0) return <p class="muted">No items.</p>;
  return (
    <ol class="items">
      {items.map((item, i) => (
        // Items have no stable key of their own across kinds (a page's items never reorder): their place is theirs.
        <li key={i} data-item-type={item.type}>
          <span class="item-label">{item.label}</span>
          <pre class="item-text">{item.text}</pre>
        </li>
      ))}
    </ol>
  );
}
