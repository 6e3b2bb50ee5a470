import type { PullResult } from "../core/pull-events.js";
import { resolveHubConnection } from "./hub-connection.js";
import { parseModelReference } from "./model-reference.js";
import { chooseFile, installHubFile, type PullOptions } from "./pull.js";

export interface PullModelOptions extends Omit<PullOptions, "quant"> {
  /** The file to fetch, when the reference is a bare repo (the CLI's second argument). */
  file?: string;
}

/**
 * Pulls a model by any name `parseModelReference` accepts: an alias (installed under the alias's
 * name, so `local/qwen2.5-0.5b` works), `hf.co/{repo}:{quant}` / `{repo}:{quant}` as Ollama
 * writes them, `{repo} {file}`, or a bare repo. Reports each step through `onEvent`; turn those
 * into Ollama's `/api/pull` stream with ollamaPullStatus in dialects/ollama.
 */
export async function pullModel(nameOrAlias: string, options: PullModelOptions): Promise<PullResult> {
  const hub = resolveHubConnection(options);
  options.onEvent?.({ type: "resolving", reference: nameOrAlias });
  const reference = parseModelReference(nameOrAlias, options.file);
  if (reference.kind === "alias") {
    const { alias } = reference;
    return installHubFile(
      hub,
      alias.repo,
      { file: { path: alias.file }, reason: "alias" },
      { ...options, name: options.name ?? alias.alias },
    );
  }
  const choice = await chooseFile(hub, reference.repo, reference.file, reference.quant, options.signal);
  return installHubFile(hub, reference.repo, choice, options);
}
