import { useState } from "preact/hooks";
import { ApiError, getJson } from "./api.js";
import { AuditPanel } from "./audit-panel.js";
import { KeyPrompt } from "./key-prompt.js";
import { forgetKey, readKey, saveKey, unsendableKey } from "./session-key.js";
import { StatePanel } from "./state-panel.js";
import { StatusPanel } from "./status-panel.js";
import type { Status } from "./wire.js";

type Tab = "status" | "audit" | "state";

/** The console: status, the egress audit and the stored state, behind the server's client key when it has one. */
export function App() {
  const [apiKey, setApiKey] = useState<string | undefined>(readKey);
  const [asking, setAsking] = useState(false);
  const [keyError, setKeyError] = useState<string | undefined>();
  const [tab, setTab] = useState<Tab>("status");
  const [targets, setTargets] = useState<string[]>([]);

  const unauthorized = (message: string): void => {
    if (apiKey !== undefined) {
      forgetKey();
      setApiKey(undefined);
      setKeyError(`The key was refused: ${message}`);
    }
    setAsking(true);
  };

  const tryKey = async (key: string): Promise<void> => {
    const unsendable = unsendableKey(key);
    if (unsendable !== undefined) {
      setKeyError(unsendable);
      return;
    }
    try {
      const status = await getJson<Status>("/v1/status", new AbortController().signal, key);
      saveKey(key);
      setApiKey(key);
      setKeyError(undefined);
      setAsking(false);
      setTargets(status.targets.map((t) => t.target));
    } catch (err) {
      setKeyError(
        err instanceof ApiError && err.needsKey ? "That key was refused: it is not one of server.apiKeys." : String(err),
      );
    }
  };

  return (
    <>
      <header>
        <h1>tandem</h1>
        {!asking && (
          <nav class="tabs">
            <button type="button" class={tab === "status" ? "active" : ""} onClick={() => setTab("status")}>
              Status
            </button>
            <button type="button" class={tab === "audit" ? "active" : ""} onClick={() => setTab("audit")}>
              Egress audit
            </button>
            <button type="button" class={tab === "state" ? "active" : ""} onClick={() => setTab("state")}>
              State
            </button>
          </nav>
        )}
        {apiKey !== undefined && !asking && (
          <button
            type="button"
            class="forget"
            onClick={() => {
              forgetKey();
              setApiKey(undefined);
              setKeyError(undefined);
              setAsking(true);
            }}
          >
            Forget key
          </button>
        )}
      </header>
      <main>
        {asking ? (
          <KeyPrompt error={keyError} onKey={(key) => void tryKey(key)} />
        ) : (
          <>
            <div hidden={tab !== "status"}>
              <StatusPanel
                apiKey={apiKey}
                onUnauthorized={unauthorized}
                onTargets={(names) => setTargets((old) => (sameList(old, names) ? old : names))}
              />
            </div>
            {tab === "audit" && <AuditPanel apiKey={apiKey} targets={targets} onUnauthorized={unauthorized} />}
            {tab === "state" && <StatePanel apiKey={apiKey} onUnauthorized={unauthorized} />}
          </>
        )}
      </main>
    </>
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
