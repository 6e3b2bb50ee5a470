import { homedir } from "node:os";
import { join } from "node:path";

/** $XDG_DATA_HOME/tandem, else ~/.local/share/tandem. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(base, "tandem");
}

/** The user config file candidates: $XDG_CONFIG_HOME/tandem/config.{yaml,yml,json}. */
export function userConfigCandidates(env: NodeJS.ProcessEnv): string[] {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return ["config.yaml", "config.yml", "config.json"].map((f) => join(base, "tandem", f));
}

/** Expands a leading `~/`. */
export function expandHome(path: string): string {
  return path === "~" ? homedir() : path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}
