import { resolve } from "node:path";
import type { Command } from "commander";

/** The options of a command that works on the data dir itself, with no server (`tandem keys`, `models`, `audit`, `gpu`). */
export interface DataDirOptions {
  dataDir?: string;
  config?: string;
}

/** `--data-dir`'s help for a command that opens the encrypted store. */
export const STORE_DATA_DIR_HELP =
  "tandem's data dir, holding tandem.db (default: TANDEM_DATA_DIR, the config's dataDir, ~/.local/share/tandem)";

const CONFIG_HELP = "config file to take dataDir from (default: TANDEM_CONFIG, ./tandem.config.yaml, the user config dir)";

/**
 * Adds `--data-dir <dir>` and `-c, --config <path>`; `dataDirHelp` says what the command keeps in the
 * dir. Every such command finds the dir the same way, so the config's help is the same for all.
 */
export function addDataDirOptions(command: Command, dataDirHelp: string): Command {
  return command.option("--data-dir <dir>", dataDirHelp).option("-c, --config <path>", CONFIG_HELP);
}

/** `--data-dir`, else the data dir the config resolves (TANDEM_DATA_DIR, the file's `dataDir`, the default). */
export async function resolveDataDir(io: { env: NodeJS.ProcessEnv }, opts: DataDirOptions): Promise<string> {
  // Loaded here, not with the command's definition: the config's schemas are slow to load (see main.ts).
  const { expandHome, loadConfig } = await import("../config/index.js");
  if (opts.dataDir) return resolve(expandHome(opts.dataDir));
  const { config } = await loadConfig({ configPath: opts.config, skipOllamaProbe: true, env: io.env });
  return config.dataDir;
}
