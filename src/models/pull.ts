import { stat } from "node:fs/promises";
import { join } from "node:path";
import { GatewayError } from "../core/index.js";
import { chooseGgufFile, type GgufChoice } from "./choose-gguf-file.js";
import { type HubFile, listRepoFiles } from "./hub-api.js";
import { checkRepoFile, checkRepoId, type HubConnection, type HubOptions, resolveHubConnection } from "./hub-connection.js";
import { type DownloadHubFileOptions, downloadHubFile } from "./hub-download.js";
import { checkModelName, GGUF_EXTENSION, modelsDir } from "./model-store.js";
import type { PullResult } from "./pull-events.js";

/** How the transfer itself behaves: the downloader's own options, passed through. */
type TransferOptions = Pick<
  DownloadHubFileOptions,
  "signal" | "onProgress" | "onEvent" | "retries" | "retryDelayMs" | "progressIntervalMs"
>;

export interface PullOptions extends HubOptions, TransferOptions {
  /** tandem's data dir; the model goes to `<dataDir>/models/<name>.gguf`. */
  dataDir: string;
  /** The installed name. Default: the file's name without `.gguf`. */
  name?: string;
  /** When no file is named: pick the GGUF whose name contains this tag (`Q4_K_M`). Default: see chooseGgufFile. */
  quant?: string;
  /** Download again even when a model of that name is installed. Default false. */
  force?: boolean;
}

/**
 * Downloads a GGUF from a Hugging Face repo into `<dataDir>/models/`. Without `file`, the repo's
 * files are listed and one GGUF is picked (see chooseGgufFile; `quant` narrows it). Resumes an
 * earlier interrupted pull of the same file, verifies the sha256, and installs atomically.
 */
export async function pull(repo: string, file: string | undefined, options: PullOptions): Promise<PullResult> {
  const hub = resolveHubConnection(options);
  checkRepoId(repo);
  options.onEvent?.({ type: "resolving", reference: file ? `${repo} ${file}` : repo });
  const choice = await chooseFile(hub, repo, file, options.quant, options.signal);
  return installHubFile(hub, repo, choice, options);
}

/** The named file, or the GGUF picked from the repo's listing. */
export async function chooseFile(
  hub: HubConnection,
  repo: string,
  file: string | undefined,
  quant: string | undefined,
  signal: AbortSignal | undefined,
): Promise<GgufChoice> {
  if (file !== undefined) return { file: { path: checkRepoFile(file) }, reason: "named" };
  const files: HubFile[] = await listRepoFiles(hub, repo, { signal });
  return chooseGgufFile(repo, files, quant);
}

/** Downloads a chosen file (unless installed already and not forced) and reports each step. */
export async function installHubFile(
  hub: HubConnection,
  repo: string,
  choice: GgufChoice,
  options: PullOptions,
): Promise<PullResult> {
  const file = choice.file.path;
  if (!file.toLowerCase().endsWith(GGUF_EXTENSION)) {
    throw new GatewayError("invalid_request", `'${file}' is not a GGUF file (tandem runs .gguf models)`, { param: "file" });
  }
  const base = file.slice(file.lastIndexOf("/") + 1);
  const name = checkModelName(options.name ?? base.slice(0, -GGUF_EXTENSION.length));
  const destination = join(modelsDir(options.dataDir), name + GGUF_EXTENSION);
  options.onEvent?.({
    type: "resolved",
    repo,
    file,
    name,
    reason: choice.reason,
    size: choice.file.size,
    sha256: choice.file.sha256,
  });

  const installed = await stat(destination).catch(() => undefined);
  if (installed?.isFile() && !options.force) {
    const result: PullResult = {
      name,
      path: destination,
      repo,
      file,
      size: installed.size,
      sha256: undefined,
      verified: false,
      alreadyInstalled: true,
      resumedFrom: 0,
      downloadedBytes: 0,
      reason: choice.reason,
    };
    options.onEvent?.({ type: "done", result });
    return result;
  }

  const outcome = await downloadHubFile({
    hub,
    repo,
    file,
    name,
    destination,
    expectedSha256: choice.file.sha256,
    expectedSize: choice.file.size,
    signal: options.signal,
    onProgress: options.onProgress,
    onEvent: options.onEvent,
    retries: options.retries,
    retryDelayMs: options.retryDelayMs,
    progressIntervalMs: options.progressIntervalMs,
  });
  const result: PullResult = { name, path: destination, repo, file, ...outcome, alreadyInstalled: false, reason: choice.reason };
  options.onEvent?.({ type: "done", result });
  return result;
}
