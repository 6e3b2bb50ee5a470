import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { formatPath } from "../core/format-path.js";
import { nameVariants } from "../core/model-name-variants.js";
import { DEFAULT_MODEL_ALIAS } from "../models/model-aliases.js";
import { installedModelNames } from "../models/model-store.js";
import { PrivacyConfigError, SensitiveDataDetector } from "../privacy/index.js";
import { ConfigError } from "./config-error.js";
import { discoverConfig, ollamaOrigin, probeOllama } from "./discover.js";
import { defaultDataDir, expandHome, userConfigCandidates } from "./paths.js";
import { type Config, configSchema } from "./schema.js";
import { configErrorMap, issuePath } from "./unknown-key.js";

export interface LoadOptions {
  /** `--config PATH`. */
  configPath?: string;
  /** `--host` / `--port`, which win over the file and the environment. */
  host?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Skip probing for a local Ollama when there is no config file (tests). Default false. */
  skipOllamaProbe?: boolean;
}

export interface LoadedConfig {
  config: Config;
  /** The file the config came from, or undefined when it was discovered from the environment. */
  file: string | undefined;
  /** The environment variable or flag that set a field over the file, by the field's path (`server.host`: `TANDEM_HOST`). */
  setBy: Record<string, string>;
}

/** Finds, reads, overrides from env and flags, validates, and cross-checks the configuration. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = await findConfigFile(options.configPath, env, cwd);
  let raw: unknown;
  if (file) {
    raw = await readConfigFile(file);
  } else {
    const origin = ollamaOrigin(env);
    const models = options.skipOllamaProbe ? undefined : await probeOllama(origin);
    const dataDir = resolve(cwd, expandHome(env.TANDEM_DATA_DIR ?? defaultDataDir(env)));
    raw = discoverConfig({
      env,
      ollamaAt: models ? origin : undefined,
      ollamaModels: models,
      localModels: await installedModelNames(dataDir),
      preferredLocal: DEFAULT_MODEL_ALIAS,
    });
  }
  const source = file ?? "(environment)";
  const fileConfig = topLevelMapping(raw, file);
  // The file alone first, so that a mistake in it is found, and blamed on it, even in a field that a
  // variable or a flag overrides today: the day `--port` is dropped, the file's `port: abc` would be.
  const fromFile = configSchema.safeParse(fileConfig, { error: configErrorMap });
  if (!fromFile.success) throw configError(fromFile.error, (path) => ({ file: source, path }));
  const { config: overridden, setBy } = applyOverrides(fileConfig, env, options);
  const parsed = configSchema.safeParse(overridden, { error: configErrorMap });
  if (!parsed.success) {
    // The file alone was valid, so the fault is in a variable's or a flag's value: name that.
    throw configError(parsed.error, (path) => {
      const setter = Object.entries(setBy).find(
        ([field]) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`),
      );
      return setter ? { path: setter[1] } : { file: source, path };
    });
  }
  // A relative dataDir is the file's, so it does not depend on where tandem is started; TANDEM_DATA_DIR's
  // is the shell's, from the current directory, as a discovered config's.
  const dataDirBase = file !== undefined && setBy.dataDir === undefined ? dirname(file) : cwd;
  const dataDir = resolve(dataDirBase, expandHome(parsed.data.dataDir ?? defaultDataDir(env)));
  const config: Config = { ...parsed.data, dataDir };
  checkRoutes(config, file);
  checkPrivacy(config, file);
  return { config, file, setBy };
}

/** Custom patterns compile (and are not catastrophic for the detector), reported with their path. */
function checkPrivacy(config: Config, file: string | undefined): void {
  try {
    new SensitiveDataDetector(config.privacy);
  } catch (err) {
    if (err instanceof PrivacyConfigError) throw new ConfigError(err.message, { file, path: `privacy.${err.path}` });
    throw err;
  }
}

async function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  const named = explicit ?? env.TANDEM_CONFIG;
  if (named) {
    const path = isAbsolute(named) ? named : resolve(cwd, expandHome(named));
    if (!(await exists(path))) throw new ConfigError("config file not found", { file: path });
    return path;
  }
  for (const candidate of [
    resolve(cwd, "tandem.config.yaml"),
    resolve(cwd, "tandem.config.json"),
    ...userConfigCandidates(env),
  ]) {
    if (await exists(candidate)) return candidate;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError("expected a file", { file: path });
    return true;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new ConfigError(`cannot read: ${(err as Error).message}`, { file: path });
  }
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    // A file this user may not read (mode 000, another user's): one line naming it, as for a missing one.
    throw new ConfigError(`cannot read: ${(err as Error).message}`, { file });
  }
  // Loaded here, not with the module: a server given its config as an object (tests, embedders) never needs it.
  const { parse: parseYaml } = await import("yaml");
  try {
    // YAML is a superset of JSON, so one parser reads both.
    const value = parseYaml(text, { prettyErrors: true });
    return value ?? {};
  } catch (err) {
    throw new ConfigError(`not valid YAML or JSON: ${(err as Error).message}`, { file });
  }
}

/** The first problem zod found, as a config error: an unknown key's problem first, since a misspelt key is the likeliest cause of the others (a required field it left missing). */
function configError(error: z.ZodError, where: (path: string) => { file?: string; path?: string }): ConfigError {
  const issue = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0];
  if (!issue) return new ConfigError("invalid configuration", where(""));
  const path = formatPath(issuePath(issue));
  return new ConfigError(issue.message, where(path));
}

function topLevelMapping(raw: unknown, file: string | undefined): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("expected a mapping at the top level", { file });
  }
  return raw as Record<string, unknown>;
}

/**
 * TANDEM_* variables win over the file; --host/--port win over both. `setBy` names, by the config path
 * it set, the variable or flag that set a field, so that an error in its value names it rather than
 * the file.
 */
function applyOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  options: LoadOptions,
): { config: Record<string, unknown>; setBy: Record<string, string> } {
  const out = { ...raw };
  const setBy: Record<string, string> = {};
  const server = { ...((out.server as Record<string, unknown> | undefined) ?? {}) };
  const set = (field: string, by: string, value: unknown) => {
    server[field] = value;
    setBy[`server.${field}`] = by;
  };
  if (env.TANDEM_HOST) set("host", "TANDEM_HOST", env.TANDEM_HOST);
  if (env.TANDEM_PORT) set("port", "TANDEM_PORT", parsePort(env.TANDEM_PORT, "TANDEM_PORT"));
  if (env.TANDEM_ALLOWED_HOSTS) set("allowedHosts", "TANDEM_ALLOWED_HOSTS", envList(env.TANDEM_ALLOWED_HOSTS));
  if (env.TANDEM_SHUTDOWN_GRACE_MS)
    set("shutdownGraceMs", "TANDEM_SHUTDOWN_GRACE_MS", parseMillis(env.TANDEM_SHUTDOWN_GRACE_MS, "TANDEM_SHUTDOWN_GRACE_MS"));
  if (env.TANDEM_ORIGINS) {
    server.cors = { ...((server.cors as object | undefined) ?? {}), origins: envList(env.TANDEM_ORIGINS) };
    setBy["server.cors.origins"] = "TANDEM_ORIGINS";
  }
  if (options.host !== undefined) set("host", "--host", options.host);
  if (options.port !== undefined) set("port", "--port", options.port);
  out.server = server;
  if (env.TANDEM_DATA_DIR) {
    out.dataDir = env.TANDEM_DATA_DIR;
    setBy.dataDir = "TANDEM_DATA_DIR";
  }
  if (env.TANDEM_LOG_LEVEL) {
    out.log = { ...((out.log as object | undefined) ?? {}), level: env.TANDEM_LOG_LEVEL };
    setBy["log.level"] = "TANDEM_LOG_LEVEL";
  }
  return { config: out, setBy };
}

/** A comma-separated variable as a list, without blanks and the quotes a shell profile may leave in. */
function envList(value: string): string[] {
  return value
    .split(",")
    .map((item) =>
      item
        .trim()
        .replace(/^["']|["']$/g, "")
        .trim(),
    )
    .filter((item) => item !== "");
}

export function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`expected a port number 0-65535, got '${text}'`, { path: what });
  }
  return port;
}

/** A number of milliseconds from an environment variable (0 or more, whole). */
function parseMillis(text: string, what: string): number {
  const ms = Number(text);
  if (text.trim() === "" || !Number.isInteger(ms) || ms < 0) {
    throw new ConfigError(`expected a whole number of milliseconds (0 or more), got '${text}'`, { path: what });
  }
  return ms;
}

/**
 * Every tier names a configured provider; a model its provider does not list is no error, as the
 * README promises: the route skips it on every request, and the banner says so (Catalog.targetProblem),
 * as it does for a model missing from a discovered list. A route's summarizer names a configured route
 * or a target its provider lists (found wrong at start, not at the first request that needs a summary).
 */
function checkRoutes(config: Config, file: string | undefined): void {
  for (const [name, route] of Object.entries(config.routes)) {
    route.tiers.forEach((tier, t) => {
      tier.forEach((target, i) => {
        checkTarget(
          config,
          target,
          { file, path: `routes.${name}.tiers[${t}]${tier.length > 1 ? `[${i}]` : ""}` },
          {
            unlisted: "skipped",
          },
        );
      });
    });
    route.tools?.forEach((tool, i) => {
      const server = tool.slice("mcp:".length);
      if (!(server in config.mcp.servers)) {
        const known = Object.keys(config.mcp.servers);
        throw new ConfigError(
          `expected a server configured under mcp.servers (${known.length > 0 ? `configured: ${known.join(", ")}` : "none is"}), got '${tool}'`,
          { file, path: `routes.${name}.tools[${i}]` },
        );
      }
    });
    const summarizer = route.summarizer;
    if (summarizer !== undefined && !(summarizer in config.routes)) {
      const where = { file, path: `routes.${name}.summarizer` };
      if (!summarizer.includes("/")) {
        const routes = Object.keys(config.routes).join(", ");
        throw new ConfigError(
          `expected a route (configured: ${routes}) or a target 'provider/model', got '${summarizer}'`,
          where,
        );
      }
      checkTarget(config, summarizer, where);
    }
  }
  // The embedding model of memories: a target, found wrong at start rather than at the first memory.
  if (config.memory.embeddings !== undefined) checkTarget(config, config.memory.embeddings, { file, path: "memory.embeddings" });
  // And of vector stores, alike.
  if (config.vectorStores.embeddings !== undefined) {
    checkTarget(config, config.vectorStores.embeddings, { file, path: "vectorStores.embeddings" });
  }
}

/**
 * A target names a configured provider and, when the provider lists its models, one of them: as a
 * request names it, with or without the `:latest` Ollama's clients add or drop (`oll/llama3.2` is
 * `oll/llama3.2:latest`). With `unlisted: "skipped"` (a route's tier) an unlisted model is left for
 * the route to skip and the banner to report.
 */
function checkTarget(
  config: Config,
  target: string,
  where: { file: string | undefined; path: string },
  options: { unlisted?: "error" | "skipped" } = {},
): void {
  const slash = target.indexOf("/");
  if (slash <= 0 || slash === target.length - 1) {
    throw new ConfigError(`expected a target 'provider/model', got '${target}'`, where);
  }
  const providerName = target.slice(0, slash);
  const model = target.slice(slash + 1);
  const provider = config.providers[providerName];
  if (!provider) {
    const known = Object.keys(config.providers);
    throw new ConfigError(
      `unknown provider '${providerName}' (configured: ${known.length > 0 ? known.join(", ") : "none"})`,
      where,
    );
  }
  if (options.unlisted === "skipped") return;
  const models = provider.models;
  if (models && Object.keys(models).length > 0 && !nameVariants(model).some((name) => name in models)) {
    throw new ConfigError(
      `provider '${providerName}' has no model '${model}' (configured: ${Object.keys(models).join(", ")})`,
      where,
    );
  }
}
