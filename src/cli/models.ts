import { Command, type CommanderError } from "commander";
import { ConfigError } from "../config/config-error.js";
import type { Config } from "../config/index.js";
import { GatewayError } from "../core/errors.js";
import type { DownloadProgress, InstalledModel, PullEvent } from "../models/index.js";
import { DEFAULT_MODEL_ALIAS, MODEL_ALIASES } from "../models/model-aliases.js";
import type { LocalModelEntry } from "../providers/llamacpp/model-files.js";
import { type CommandIo, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, processIo } from "./command-io.js";
import { addDataDirOptions, type DataDirOptions, resolveDataDir } from "./data-dir-options.js";

// The models' code (the hub client, GGUF reading), the config's and the local engine's are loaded
// when a command runs, not with the definitions: `tandem --help` or `tandem stop` need none of it.
const modelStore = () => import("../models/index.js");
const modelFiles = () => import("../providers/llamacpp/model-files.js");

const DATA_DIR_HELP =
  "tandem's data dir; models are in <dir>/models (default: TANDEM_DATA_DIR, the config's dataDir, ~/.local/share/tandem)";

/** What the models commands read and write: the process's own unless a test passes its own. */
/** HF_ENDPOINT, HF_TOKEN, TANDEM_DATA_DIR, TANDEM_CONFIG... in env; progress on stderr (a bar on a terminal). */
export type ModelsCommandIo = CommandIo;

/** `tandem models pull|list|rm`: the GGUF models in `<dataDir>/models/`. */
export function modelsCommand(io: ModelsCommandIo = processIo()): Command {
  const group = new Command("models")
    .description("manage local GGUF models: pull from Hugging Face, list, remove")
    // Commander exits 1 on a usage error; tandem's usage errors exit 2. Set before the
    // subcommands are made, so they inherit both.
    .exitOverride((err: CommanderError) => io.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  const aliasHelp = MODEL_ALIASES.map((a) => `  ${a.alias.padEnd(14)} ${a.repo} ${a.file}`).join("\n");
  addDataDirOptions(
    group
      .command("pull")
      .description("download a GGUF model from Hugging Face into the data dir (resumes an interrupted download)")
      .argument(
        "<model>",
        `an alias (e.g. ${DEFAULT_MODEL_ALIAS}), a repo (owner/name, owner/name:Q4_K_M, hf.co/owner/name:Q8_0)`,
      )
      .argument("[file]", "the GGUF file in the repo (default: Q4_K_M, else the smallest GGUF)")
      .option("--name <name>", "install under this name (default: the alias, else the file name without .gguf)")
      .option("--force", "download again even if a model of that name is installed")
      .addHelpText(
        "after",
        `\nAliases:\n${aliasHelp}\n\nHF_ENDPOINT sets the hub (default https://huggingface.co); HF_TOKEN is sent for private and gated repos.`,
      ),
    DATA_DIR_HELP,
  ).action(async (model: string, file: string | undefined, opts: DataDirOptions & { name?: string; force?: boolean }) => {
    io.setExitCode(await pullCommand(io, model, file, opts));
  });

  addDataDirOptions(
    group
      .command("list")
      .alias("ls")
      .description("list installed models: name, size, quantization, context length, chat template")
      .option("--json", "print JSON"),
    DATA_DIR_HELP,
  ).action(async (opts: DataDirOptions & { json?: boolean }) => {
    io.setExitCode(await listCommand(io, opts));
  });

  addDataDirOptions(
    group
      .command("rm")
      .alias("remove")
      .description("delete an installed model (and any unfinished download of it)")
      .argument("<name>", "the model's name, as `tandem models list` shows it")
      .option("--force", "delete it even if models in the config use its file"),
    DATA_DIR_HELP,
  ).action(async (name: string, opts: DataDirOptions & { force?: boolean }) => {
    io.setExitCode(await removeCommand(io, name, opts));
  });
  return group;
}

/** Runs a command body, turning what it throws into a one-line message and an exit code. */
async function run(io: ModelsCommandIo, what: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`tandem ${what}: config error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof GatewayError && err.code === "canceled") {
      io.stderr.write(`tandem ${what}: ${err.message}\n`);
      return EXIT_INTERRUPTED;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`tandem ${what}: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    // A model reference, repo or file that cannot be what it claims is the user's typo: a usage error.
    const usage =
      err instanceof GatewayError && err.code === "invalid_request" && ["model", "repo", "file"].includes(err.param ?? "");
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}

async function pullCommand(
  io: ModelsCommandIo,
  model: string,
  file: string | undefined,
  opts: DataDirOptions & { name?: string; force?: boolean },
): Promise<number> {
  return run(io, "models pull", async () => {
    const { dataDir, claimName } = await pullDestination(io, opts);
    const controller = new AbortController();
    const onInterrupt = () => controller.abort();
    process.once("SIGINT", onInterrupt);
    const progress = new ProgressDisplay(io.stderr);
    const { pullModel, readGgufInfo } = await modelStore();
    try {
      const result = await pullModel(model, {
        dataDir,
        env: io.env,
        file,
        name: opts.name,
        force: opts.force,
        claimName,
        signal: controller.signal,
        onEvent: (event) => progress.event(event),
      });
      progress.finish();
      if (result.alreadyInstalled) {
        io.stdout.write(`${result.name} is already installed at ${result.path} (--force downloads it again)\n`);
        return 0;
      }
      const info = await readGgufInfo(result.path, { maxArrayItems: 0 }).catch(() => undefined);
      const details = [
        formatBytes(result.size),
        info?.quantization,
        info?.contextLength === undefined ? undefined : `context ${info.contextLength}`,
        result.verified ? "sha256 verified" : "no sha256 published",
      ].filter(Boolean);
      io.stdout.write(`pulled ${result.name} (${details.join(", ")}) into ${result.path}\n`);
      return 0;
    } finally {
      progress.finish();
      process.removeListener("SIGINT", onInterrupt);
    }
  });
}

/**
 * The data dir a pull installs into, and the names it may not take there: those the config gives a
 * local model of another file, which a configured name would go on shadowing (the server's
 * /api/pull, create and copy refuse them too; see configuredNameRefusal). A `--data-dir` other than
 * the config's has no configured models to shadow.
 */
async function pullDestination(
  io: ModelsCommandIo,
  opts: DataDirOptions,
): Promise<{ dataDir: string; claimName: (name: string, destination: string) => void }> {
  const { dataDir, config } = await modelsConfig(io, opts);
  const engines = config?.dataDir === dataDir ? localEngines(config) : [];
  const { configuredNameRefusal } = await modelFiles();
  return {
    dataDir,
    claimName: (name, destination) => {
      for (const engine of engines) {
        const refusal = configuredNameRefusal(engine.name, dataDir, engine.models, name, destination);
        if (refusal) throw refusal;
      }
    },
  };
}

/**
 * The data dir a models command works on, and the config `tandem serve` would read (found the same
 * way: `--config`, TANDEM_CONFIG, ./tandem.config.yaml, the user config dir). A config that cannot be
 * read does not stop a command given `--data-dir`, which does not need it to find the models: its
 * error comes back as `configError` instead; without `--data-dir` it is thrown (the dir is unknown).
 */
async function modelsConfig(
  io: ModelsCommandIo,
  opts: DataDirOptions,
): Promise<{ dataDir: string; config?: Config; configError?: string }> {
  try {
    const { loadConfig } = await import("../config/index.js");
    const { config } = await loadConfig({ configPath: opts.config, skipOllamaProbe: true, env: io.env });
    return { dataDir: opts.dataDir ? await resolveDataDir(io, opts) : config.dataDir, config };
  } catch (err) {
    if (!opts.dataDir) throw err;
    const message = err instanceof Error ? err.message : String(err);
    return { dataDir: await resolveDataDir(io, opts), configError: message.replace(/\s*\n\s*/g, " ") };
  }
}

/** The config's local engines (llamacpp providers), each with its configured models. */
function localEngines(config: Config): { name: string; models: Record<string, LocalModelEntry> }[] {
  return Object.entries(config.providers).flatMap(([name, provider]) =>
    provider.kind === "llamacpp" ? [{ name, models: provider.models }] : [],
  );
}

async function listCommand(io: ModelsCommandIo, opts: DataDirOptions & { json?: boolean }): Promise<number> {
  return run(io, "models list", async () => {
    const dataDir = await resolveDataDir(io, opts);
    const { listInstalledModels, modelsDir } = await modelStore();
    const models = await listInstalledModels(dataDir);
    if (opts.json) {
      io.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
      return 0;
    }
    if (models.length === 0) {
      io.stderr.write(`no models in ${modelsDir(dataDir)}; get one with: tandem models pull ${DEFAULT_MODEL_ALIAS}\n`);
      return 0;
    }
    io.stdout.write(formatModelTable(models));
    return 0;
  });
}

/**
 * `tandem models rm`. A file that models in the config use (`providers.<engine>.models.<name>.path`,
 * by real path, so a symbolic link counts) is not deleted without `--force`: the server would go on
 * listing them with no file to load, as /api/delete will not take a file from the other names that
 * serve it. Unlike /api/delete, which deletes a configured model named by its own name when no
 * other name serves its file, this removes a file of the models folder, not a model of the config:
 * a configured model of the same name that uses the file is one the file would be taken from. A
 * config that cannot be read does not block the delete (with `--data-dir`; without it the models
 * folder is unknown): a warning says the check was not made.
 */
async function removeCommand(io: ModelsCommandIo, name: string, opts: DataDirOptions & { force?: boolean }): Promise<number> {
  return run(io, "models rm", async () => {
    const { dataDir, config, configError } = await modelsConfig(io, opts);
    const { checkModelName, installedModelFiles, removeModel } = await modelStore();
    const { configuredModelsOfFile } = await modelFiles();
    // The file the server would load (a split model's first part); an unfinished download alone is no model's.
    const path = opts.force ? undefined : (await installedModelFiles(dataDir)).get(checkModelName(name));
    if (path !== undefined) {
      if (configError !== undefined) {
        io.stderr.write(
          `tandem models rm: warning: config not read, so not checked for models that use ${name} (${configError})\n`,
        );
      } else if (config) {
        const users: string[] = [];
        for (const engine of localEngines(config)) {
          for (const model of await configuredModelsOfFile(config.dataDir, engine.models, path)) {
            users.push(`${engine.name}/${model} (providers.${engine.name}.models.${model})`);
          }
        }
        if (users.length > 0) {
          io.stderr.write(
            `tandem models rm: ${name} is not deleted: its file ${path} is used by ${users.join(", ")} in the config; take ${users.length === 1 ? "it" : "them"} out of the config first, or pass --force\n`,
          );
          return EXIT_FAILED;
        }
      }
    }
    const removed = await removeModel(dataDir, name);
    io.stdout.write(`removed ${removed.name} (${removed.removed.join(", ")})\n`);
    return 0;
  });
}

/** The `tandem models list` table. */
export function formatModelTable(models: readonly InstalledModel[]): string {
  const rows = models.map((m) => [
    m.name,
    formatBytes(m.size),
    m.error ? "-" : (m.quantization ?? "-"),
    m.contextLength === undefined ? "-" : String(m.contextLength),
    m.error ? `unreadable: ${m.error}` : m.hasChatTemplate ? "yes" : "no",
  ]);
  const header = ["NAME", "SIZE", "QUANT", "CONTEXT", "CHAT TEMPLATE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i === 1 || i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ");
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

/** Decimal units, as download sizes are usually given: 1.2 MB, 491 MB, 1.9 GB. */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 45s, 3m12s, 1h05m. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Shows a pull's progress: a bar redrawn in place on a terminal (size, percent, speed, ETA), or a
 * plain line every few seconds when stderr is a file or a pipe.
 */
class ProgressDisplay {
  readonly #out: ModelsCommandIo["stderr"];
  readonly #tty: boolean;
  /** Least time between plain lines when not on a terminal. */
  readonly #plainEveryMs = 5000;
  #lastDraw = 0;
  #drawn = false;

  constructor(out: ModelsCommandIo["stderr"]) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  event(event: PullEvent): void {
    switch (event.type) {
      case "resolved": {
        const size = event.size === undefined ? "" : `, ${formatBytes(event.size)}`;
        this.#line(`pulling ${event.name}: ${event.repo} ${event.file} (${event.reason}${size})`);
        return;
      }
      case "progress": {
        const now = Date.now();
        const complete = event.totalBytes !== undefined && event.doneBytes >= event.totalBytes;
        if (this.#tty) {
          if (complete || now - this.#lastDraw >= 100) this.#draw(event, now);
        } else if (this.#lastDraw === 0 || complete || now - this.#lastDraw >= this.#plainEveryMs) {
          this.#lastDraw = now;
          this.#out.write(`${event.name}: ${describeProgress(event)}\n`);
        }
        return;
      }
      case "verifying":
        this.#line(
          event.sha256
            ? `verifying sha256 ${event.sha256.slice(0, 12)}...`
            : "checking the download (the hub published no sha256)",
        );
        return;
      default:
        return;
    }
  }

  /** Ends a bar that is still drawn, so later output starts on a new line. */
  finish(): void {
    if (this.#drawn) this.#out.write("\n");
    this.#drawn = false;
  }

  #line(text: string): void {
    this.finish();
    this.#out.write(`${text}\n`);
  }

  #draw(progress: DownloadProgress, now: number): void {
    this.#lastDraw = now;
    const text = describeProgress(progress);
    const columns = this.#out.columns || 80;
    const barWidth = Math.max(0, Math.min(30, columns - text.length - 4));
    let bar = "";
    if (barWidth >= 10 && progress.totalBytes) {
      const filled = Math.round((barWidth * progress.doneBytes) / progress.totalBytes);
      bar = `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}] `;
    }
    this.#out.write(`\r\x1b[2K${bar}${text}`.slice(0, columns + 6));
    this.#drawn = true;
  }
}

function describeProgress(p: DownloadProgress): string {
  const size =
    p.totalBytes === undefined ? formatBytes(p.doneBytes) : `${formatBytes(p.doneBytes)} / ${formatBytes(p.totalBytes)}`;
  const percent = p.totalBytes ? `${Math.floor((100 * p.doneBytes) / p.totalBytes)}%  ` : "";
  const speed = p.bytesPerSecond > 0 ? `  ${formatBytes(p.bytesPerSecond)}/s` : "";
  const done = p.totalBytes !== undefined && p.doneBytes >= p.totalBytes;
  const eta = !done && p.etaSeconds !== undefined ? `  ETA ${formatDuration(p.etaSeconds)}` : "";
  return `${percent}${size}${speed}${eta}`;
}
