import { type Config, ConfigError, loadConfig } from "../config/index.js";
import { redactSecrets } from "../core/index.js";
import { DEFAULT_MODEL_ALIAS } from "../models/model-aliases.js";
import { listsOwnModels } from "../providers/provider-kind.js";
import type { ProviderSlot } from "../providers/registry.js";
import type { ProviderUsability } from "../router/catalog.js";
import { parseKeyRef, resolveKeyRef } from "../secrets/index.js";
import { buildServer, type TandemServer } from "../server/app.js";
import { isLoopback } from "../server/auth.js";
import { BackgroundStore, DataDirLock, StoreError } from "../store/index.js";
import { createLogger } from "../telemetry/logger.js";
import { VERSION } from "../version.js";

export interface ServeOptions {
  config?: string;
  host?: string;
  port?: number;
}

/**
 * `tandem serve`: load config, start listening, print a banner. On SIGINT/SIGTERM it stops gracefully
 * (server.shutdownGraceMs for the requests running, see TandemServer.shutdown); a second signal stops at once.
 */
export async function serve(options: ServeOptions, env: NodeJS.ProcessEnv = process.env): Promise<TandemServer> {
  const { config, file, setBy } = await loadConfig({ configPath: options.config, host: options.host, port: options.port, env });
  // Before anything in the data dir is read: a second server on it would take the first's running
  // background responses and batches for what a crash left (see DataDirLock).
  const lock = DataDirLock.acquire(config.dataDir);
  // The store first: client keys, like provider keys, may live in it (store:NAME).
  let store: BackgroundStore | undefined;
  try {
    store = await openServerStore(config, env);
  } catch (err) {
    lock.release();
    throw err;
  }
  let server: TandemServer;
  let clientKeys: string[];
  let logger: ReturnType<typeof createLogger>;
  try {
    clientKeys = await resolveClientKeys(config, env, store);
    if (!isLoopback(config.server.host) && clientKeys.length === 0) {
      throw new ConfigError(
        `binding to ${config.server.host}${setBy["server.host"] ? ` (${setBy["server.host"]})` : ""} exposes tandem to other machines: set server.apiKeys (e.g. [env:TANDEM_KEY]) or TANDEM_API_KEYS`,
        { file, path: "server.apiKeys" },
      );
    }
    logger = createLogger(config.log.level);
    // A promise someone forgot to handle is a bug to log, not a reason to drop every client's request.
    process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
    server = await buildServer({ config, logger, clientKeys, env, ...(store && { store }) });
  } catch (err) {
    await store?.close();
    lock.release();
    throw err;
  }
  await Promise.all([
    server.catalog.discover(),
    server.app.listen({ host: config.server.host, port: config.server.port }).catch((err: NodeJS.ErrnoException) => {
      throw listenError(err, config, file, setBy);
    }),
  ]);
  const address = server.app.server.address();
  if (typeof address === "object" && address) lock.describe({ pid: process.pid, port: address.port, host: config.server.host });
  // Batches a stop or a crash left unfinished go on (in the background) with their lines not finished.
  await server.batches.start();
  process.stderr.write(banner(server, config, file, clientKeys.length > 0, await server.catalog.usability()));
  const graceMs = config.server.shutdownGraceMs;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second signal (an impatient Ctrl-C, systemd's escalation): what runs is ended now, and the
      // store still closes, so every row written so far is committed.
      logger.warn({ signal }, "stopping now: requests still running are cut");
      await server.forceClose();
      process.exit(0);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "shutting down: new requests are refused, those running have the grace period to finish");
    try {
      await server.shutdown(graceMs);
    } catch (err) {
      logger.error({ err }, "the shutdown failed");
      process.exit(1);
    }
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  return server;
}

/**
 * Why the server could not listen, as a config error naming the setting to change (exit 2, one
 * line) where the bind address or port is at fault: a port in use, an address not on this machine,
 * a host name that does not resolve, a port this user may not bind. Anything else stays as it came.
 */
function listenError(err: NodeJS.ErrnoException, config: Config, file: string | undefined, setBy: Record<string, string>): Error {
  const { host, port } = config.server;
  const hostSetting = setBy["server.host"] ?? "server.host";
  switch (err.code) {
    case "EADDRINUSE":
      return new ConfigError(`port ${port} on ${host} is already in use (use --port or TANDEM_PORT)`);
    case "EADDRNOTAVAIL":
      return new ConfigError(
        `cannot listen on ${host}: no network interface of this machine has that address (EADDRNOTAVAIL); use one it has, 127.0.0.1 or 0.0.0.0`,
        settingWhere(hostSetting, file),
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
      return new ConfigError(
        `cannot listen on ${host}: the name does not resolve (${err.code}); use an IP address`,
        settingWhere(hostSetting, file),
      );
    case "EACCES":
      return new ConfigError(
        `cannot listen on ${host}:${port}: this user may not bind that port (EACCES: ports below 1024 need privileges); use a port from 1024`,
        settingWhere(setBy["server.port"] ?? "server.port", file),
      );
    default:
      return err;
  }
}

/** Where a setting is named in an error: the variable or flag that set it, else its path in the file. */
function settingWhere(setting: string, file: string | undefined): { file?: string; path: string } {
  return setting.startsWith("server.") && file !== undefined ? { file, path: setting } : { path: setting };
}

/**
 * The encrypted store the server logs requests, usage and egress into (unless `store.enabled` is
 * false). A store that cannot be opened (wrong key, damaged file) stops the start (exit 2): running
 * without the audit the user expects would be worse than saying so.
 */
async function openServerStore(config: Config, env: NodeJS.ProcessEnv): Promise<BackgroundStore | undefined> {
  if (!config.store.enabled) return undefined;
  try {
    return await BackgroundStore.open({
      dataDir: config.dataDir,
      env,
      logContent: config.store.logContent,
      retentionDays: config.store.retentionDays,
      logRetentionDays: config.store.logRetentionDays,
      durability: config.store.durability,
      ...(config.state.retentionDays !== undefined && { stateRetentionDays: config.state.retentionDays }),
      chatCompletionRetentionDays: config.state.chatCompletions.retentionDays,
    });
  } catch (err) {
    if (err instanceof StoreError) {
      throw new StoreError(
        err.code,
        `${err.message} (set store.enabled: false to run without the request log and egress audit)`,
        {
          ...(err.file !== undefined && { file: err.file }),
          cause: err,
        },
      );
    }
    throw err;
  }
}

async function resolveClientKeys(config: Config, env: NodeJS.ProcessEnv, store: BackgroundStore | undefined): Promise<string[]> {
  const keys: string[] = [];
  for (const text of config.server.apiKeys) {
    const ref = parseKeyRef(text);
    let key: string | undefined;
    try {
      key = ref ? await resolveKeyRef(ref, env, store ? { store } : {}) : undefined;
    } catch (err) {
      // e.g. keychain: on a machine without a keychain: a config problem, said in one line.
      throw new ConfigError(`client key '${text}' cannot be read: ${(err as Error).message}`, { path: "server.apiKeys" });
    }
    if (key === undefined) {
      throw new ConfigError(`client key '${text}' is not set; refusing to start with fewer keys than configured`, {
        path: "server.apiKeys",
      });
    }
    keys.push(key);
  }
  for (const key of (env.TANDEM_API_KEYS ?? "").split(",")) if (key.trim()) keys.push(key.trim());
  return keys;
}

function banner(
  server: TandemServer,
  config: Config,
  file: string | undefined,
  authOn: boolean,
  usability: ReadonlyMap<string, ProviderUsability>,
): string {
  const address = server.app.server.address();
  const port = typeof address === "object" && address ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  const lines = [
    `tandem ${VERSION} listening on http://${host}:${port}`,
    `  OpenAI: http://${host}:${port}/v1   Anthropic: http://${host}:${port}   Ollama: http://${host}:${port}`,
    `  config: ${file ?? "none found (providers discovered from the environment)"}`,
    `  data:   ${config.dataDir}`,
    `  auth:   ${authOn ? "API key required" : "open to loopback clients"}`,
  ];
  const slots = [...server.catalog.slots.values()];
  const entries = server.catalog.entries();
  // Models of the engines that list their own (the embedded one), by capability rather than kind.
  const engines = new Set(slots.filter(listsOwnModels).map((s) => s.name));
  const localModels = entries.filter((e) => e.kind === "target" && e.provider !== undefined && engines.has(e.provider)).length;
  if (entries.every((e) => e.kind !== "target")) {
    lines.push(
      "",
      "  No model is available yet. To add one, any of:",
      `    - tandem models pull ${DEFAULT_MODEL_ALIAS} (a small local model, about 0.4 GB; served at once as local/${DEFAULT_MODEL_ALIAS})`,
      "    - export OPENAI_API_KEY=... (or ANTHROPIC_API_KEY, OPENROUTER_API_KEY) and restart",
      "    - start Ollama (http://127.0.0.1:11434) with a pulled model and restart",
      "    - write tandem.config.yaml with providers and routes (see the README: Configuration)",
    );
  } else {
    lines.push("  providers:");
    for (const slot of slots) {
      const count = entries.filter((e) => e.provider === slot.name).length;
      // As /v1/status shows it: a URL may carry credentials (`user:pass@`, `?api_key=`).
      const where = "baseUrl" in slot.config ? ` ${redactSecrets(slot.config.baseUrl)}` : "";
      lines.push(
        `    ${slot.name} (${slot.config.kind}${where}): ${providerState(server, slot, count, usability.get(slot.name))}`,
      );
    }
    const routes = entries.filter((e) => e.kind === "route");
    if (routes.length > 0) {
      lines.push("  routes:");
      for (const r of routes) {
        lines.push(`    ${r.name}: ${(r.tiers ?? []).map((t) => t.join(" | ")).join(" -> ")}`);
        // A target the route will skip on every request (a model its provider does not list, an
        // unavailable provider): said now, not first seen in a client's 503.
        for (const target of new Set((r.tiers ?? []).flat())) {
          const problem = server.catalog.targetProblem(target);
          if (problem !== undefined) lines.push(`      skipped: ${target}: ${problem}`);
        }
      }
    }
    const targets = entries.filter((e) => e.kind === "target");
    const shown = targets.slice(0, 12).map((t) => t.name);
    lines.push(
      `  models: ${shown.join(", ")}${targets.length > shown.length ? ` (+${targets.length - shown.length} more)` : ""}`,
    );
  }
  if (localModels === 0 && entries.some((e) => e.kind === "target")) {
    lines.push(
      "",
      "  No local model yet. Pull one (about 0.4 GB) to run AI on this machine too:",
      `    tandem models pull ${DEFAULT_MODEL_ALIAS}      (from a checkout: node dist/cli/main.js models pull ...)`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * One provider's line in the banner: how many models it offers (or that its list could not be read,
 * so names are passed to it as given), and why it cannot answer when it cannot (no key resolves, no
 * readable model file). An engine with no model at all is left to the pull advice below.
 */
function providerState(
  server: TandemServer,
  slot: ProviderSlot,
  count: number,
  usability: ProviderUsability | undefined,
): string {
  if (!slot.provider) return `unavailable: ${slot.unavailable}`;
  const failure = server.catalog.discoveryFailure(slot.name);
  const offers =
    failure === undefined
      ? `${count} model${count === 1 ? "" : "s"}`
      : `model list not read (${failure}); model names go to it as given`;
  if (usability === undefined || usability.usable || (listsOwnModels(slot) && count === 0)) return offers;
  return `${offers}; not usable: ${usability.reason}`;
}
