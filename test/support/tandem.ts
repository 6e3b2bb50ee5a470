import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type Config, type ConfigInput, configSchema } from "../../src/config/index.js";
import type { BatchStore } from "../../src/core/batches.js";
import type { FileStore } from "../../src/core/files.js";
import type { ChatCompletionStore, ToolHost } from "../../src/core/index.js";
import type { StateStore } from "../../src/core/state.js";
import { buildServer, type TandemServer } from "../../src/server/app.js";
import { BackgroundStore, openStore } from "../../src/store/index.js";

export interface RunningTandem {
  url: string;
  /** The server's data dir (a fresh temp dir): models go in `<dataDir>/models`. */
  dataDir: string;
  server: TandemServer;
  close(): Promise<void>;
}

/** Starts a real tandem server in this process on 127.0.0.1 with an ephemeral port. */
export async function startTandem(
  input: ConfigInput,
  options: {
    clientKeys?: string[];
    env?: NodeJS.ProcessEnv;
    /** Open an encrypted store in the test's data dir (request log, usage, egress audit, GET /v1/audit). Default false. */
    store?: boolean | { logContent?: boolean; secrets?: Record<string, string>; key?: Buffer };
    /** Where responses and conversations are kept (a test can seed or inspect it). Default: the server's own, in memory. */
    state?: StateStore;
    /** Where the Files API's files are kept. Default: the server's own (the store's, else in memory). */
    files?: FileStore;
    /** Where stored chat completions are kept. Default: the server's own (the store's, else in memory). */
    chatCompletions?: ChatCompletionStore;
    /** The data dir to use (a restart over the same data). Default: a fresh temp dir. */
    dataDir?: string;
    /** Runs MCP servers' tools for the tool loop. Default: the config's (`mcp`). */
    toolHost?: ToolHost;
    /** The web console's bundle (see test/support/console-bundle.ts). Default: the server's own default (dist/web). */
    consoleDir?: string;
    /** Where batches are kept. Default: the server's own (the store's, else in memory). */
    batches?: BatchStore;
    /** The batches' completion window in seconds. Default: 24 h. */
    batchWindowSeconds?: number;
    /** Captures the server's log lines (info and up) here, as the JSON lines stdout would get. Default: no log. */
    log?: string[];
  } = {},
): Promise<RunningTandem> {
  // Active health probes are off unless a test asks for them: a probe arriving mid-test would be
  // one more request in a fake upstream's log.
  const parsed = configSchema.parse({
    health: { probeIntervalMs: 0 },
    ...input,
    server: { ...input.server, host: "127.0.0.1", port: 0 },
  });
  const config: Config = { ...parsed, dataDir: options.dataDir ?? testDataDir() };
  const storeKey = (typeof options.store === "object" && options.store.key) || randomBytes(32);
  const secrets = typeof options.store === "object" ? (options.store.secrets ?? {}) : {};
  if (Object.keys(secrets).length > 0) {
    // As `tandem keys set NAME --store` writes them, before the server opens the store.
    const direct = openStore({ dataDir: config.dataDir, key: storeKey, pruneIntervalMs: 0, report: () => {} });
    for (const [name, value] of Object.entries(secrets)) direct.setSecret(name, value);
    direct.close();
  }
  const store = options.store
    ? await BackgroundStore.openWithKey({
        dataDir: config.dataDir,
        key: storeKey,
        pruneIntervalMs: 0,
        logContent: typeof options.store === "object" && options.store.logContent === true,
      })
    : undefined;
  const server = await buildServer({
    config,
    logger: options.log
      ? pino({ level: "info" }, { write: (line: string) => void options.log?.push(line) })
      : pino({ level: "silent" }),
    clientKeys: options.clientKeys ?? [],
    env: options.env ?? {},
    ...(store && { store }),
    ...(options.state && { state: options.state }),
    ...(options.files && { files: options.files }),
    ...(options.chatCompletions && { chatCompletions: options.chatCompletions }),
    ...(options.toolHost && { toolHost: options.toolHost }),
    ...(options.consoleDir !== undefined && { consoleDir: options.consoleDir }),
    ...(options.batches && { batches: options.batches }),
    ...(options.batchWindowSeconds !== undefined && { batchWindowSeconds: options.batchWindowSeconds }),
  });
  await server.catalog.discover();
  await server.batches.start();
  await server.app.listen({ host: "127.0.0.1", port: 0 });
  const address = server.app.server.address();
  if (typeof address !== "object" || !address) throw new Error("server has no address");
  return { url: `http://127.0.0.1:${address.port}`, dataDir: config.dataDir, server, close: () => server.close() };
}

/** Data directories startTandem made, removed when the test process ends (a test may read one after close). */
const madeDirs: string[] = [];

function testDataDir(): string {
  if (madeDirs.length === 0)
    process.once("exit", () => {
      for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
    });
  const dir = mkdtempSync(join(tmpdir(), "tandem-test-"));
  madeDirs.push(dir);
  return dir;
}

/**
 * Route limits for tests whose subject is not the first-token or idle limit. The route default (10 s
 * to the first token) counts the embedded engine's start and model load, which on a loaded 2-core
 * box can take longer than that; these are only ever waited out when something is already wrong.
 * Tests about the limits keep tight ones of their own.
 */
export const PATIENT_TIMEOUTS = { firstTokenMs: 60_000, idleMs: 60_000 } as const;

/**
 * Loads a local model (Ollama's load request: no first-token limit watches it) and waits until it
 * is ready, so a test's next request names the target directly (which has the route defaults,
 * 10 s to the first token) without paying the engine's start and the model's load inside that limit.
 */
export async function loadLocalModel(tandem: Pick<RunningTandem, "url">, model: string): Promise<void> {
  const res = await fetch(`${tandem.url}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [] }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`loading ${model} failed: HTTP ${res.status} ${body}`);
}
