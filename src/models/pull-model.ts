import type { PullEvent, PullResult } from "../core/pull-events.js";
import { resolveHubConnection } from "./hub-connection.js";
import { parseModelReference } from "./model-reference.js";
import { chooseFile, installHubFile, type PullOptions } from "./pull.js";
import { recordPulledName } from "./pulled-names.js";

export interface PullModelOptions extends Omit<PullOptions, "quant"> {
  /** The file to fetch, when the reference is a bare repo (the CLI's second argument). */
  file?: string;
}

/**
 * Pulls a model by any name `parseModelReference` accepts: an alias (installed under the alias's
 * name, so `local/qwen2.5-0.5b` works), `hf.co/{repo}:{quant}` / `{repo}:{quant}` as Ollama
 * writes them, `{repo} {file}`, or a bare repo. Reports each step through `onEvent`; turn those
 * into Ollama's `/api/pull` stream with ollamaPullStatus in dialects/ollama.
 *
 * The reference is checked before the first event, so that a name no pull takes (a file path, an
 * unknown alias) is refused before a client's progress stream begins. Pulled without `--name` or a
 * file, the model also goes by the name it was pulled by (pulledModelName: `qwen2.5:0.5b`,
 * `hf.co/owner/repo:Q8_0`), recorded before `done` is reported, so that a client that pulls and then
 * uses that name (`ollama run`) finds it.
 */
export async function pullModel(nameOrAlias: string, options: PullModelOptions): Promise<PullResult> {
  const hub = resolveHubConnection(options);
  const reference = parseModelReference(nameOrAlias, options.file);
  options.onEvent?.({ type: "resolving", reference: nameOrAlias });
  // Every step but the last is reported as it happens; `done` waits for the name to be recorded.
  const steps = {
    ...options,
    onEvent: (event: PullEvent) => {
      if (event.type !== "done") options.onEvent?.(event);
    },
  };
  let result: PullResult;
  if (reference.kind === "alias") {
    const { alias } = reference;
    result = await installHubFile(
      hub,
      alias.repo,
      { file: { path: alias.file }, reason: "alias" },
      { ...steps, name: options.name ?? alias.alias },
    );
  } else {
    const choice = await chooseFile(hub, reference.repo, reference.file, reference.quant, options.signal);
    result = await installHubFile(hub, reference.repo, choice, steps);
  }
  if (options.name === undefined && options.file === undefined) {
    await recordPulledName(options.dataDir, nameOrAlias, result.name);
  }
  options.onEvent?.({ type: "done", result });
  return result;
}
