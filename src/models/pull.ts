import { stat } from "node:fs/promises";
import { join } from "node:path";
import { GatewayError } from "../core/index.js";
import type { DownloadProgress, PullEvent, PullResult } from "../core/pull-events.js";
import { chooseGgufFile, type GgufChoice, SPLIT_PART, splitSets } from "./choose-gguf-file.js";
import { type HubFile, listRepoFiles } from "./hub-api.js";
import { checkRepoFile, checkRepoId, type HubConnection, type HubOptions, resolveHubConnection } from "./hub-connection.js";
import { type DownloadHubFileOptions, downloadHubFile } from "./hub-download.js";
import { checkModelName, GGUF_EXTENSION, installedModelPath, modelsDir, splitPartName } from "./model-store.js";

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
  /**
   * Called with the name the model is to be installed under and its (first) file's path, before
   * anything is downloaded; throws to refuse the name (one the config gives another file). Default: any name.
   */
  claimName?: (name: string, destination: string) => void;
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
  if (file !== undefined && !SPLIT_PART.test(file)) return { file: { path: checkRepoFile(file) }, reason: "named" };
  const files: HubFile[] = await listRepoFiles(hub, repo, { signal });
  if (file !== undefined) {
    // A part of a split model names the whole model: every part is fetched.
    for (const [first, parts] of splitSets(files)) {
      if (parts.some((p) => p.path === file)) return { file: first, reason: `named, in ${parts.length} parts`, parts };
    }
    throw new GatewayError("not_found", `${repo} has no complete split model with the part '${file}'`, { param: "file" });
  }
  return chooseGgufFile(repo, files, quant);
}

/** Downloads a chosen file (unless installed already and not forced) and reports each step. */
export async function installHubFile(
  hub: HubConnection,
  repo: string,
  choice: GgufChoice,
  options: PullOptions,
): Promise<PullResult> {
  if (choice.parts && choice.parts.length > 1) return installSplitModel(hub, repo, choice, choice.parts, options);
  const file = choice.file.path;
  if (!file.toLowerCase().endsWith(GGUF_EXTENSION)) {
    throw new GatewayError("invalid_request", `'${file}' is not a GGUF file (tandem runs .gguf models)`, { param: "file" });
  }
  const base = file.slice(file.lastIndexOf("/") + 1);
  const name = checkModelName(options.name ?? base.slice(0, -GGUF_EXTENSION.length));
  const destination = installedModelPath(options.dataDir, name);
  options.claimName?.(name, destination);
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

/**
 * Downloads every part of a split model as `<name>-0000i-of-0000N.gguf` (llama.cpp loads them all
 * given the first), one after another, each resumable and checked against the hub's sha256 like a
 * whole file. Progress is reported as one transfer over all parts; a part already complete from an
 * earlier, interrupted pull is kept.
 */
async function installSplitModel(
  hub: HubConnection,
  repo: string,
  choice: GgufChoice,
  parts: HubFile[],
  options: PullOptions,
): Promise<PullResult> {
  const first = parts[0] as HubFile;
  const stem = first.path.slice(first.path.lastIndexOf("/") + 1).replace(SPLIT_PART, "");
  const name = checkModelName(options.name ?? stem);
  const dir = modelsDir(options.dataDir);
  const destinations = parts.map((_, i) => join(dir, splitPartName(name, i + 1, parts.length)));
  options.claimName?.(name, destinations[0] as string);
  const total = parts.every((p) => p.size !== undefined) ? parts.reduce((sum, p) => sum + (p.size ?? 0), 0) : undefined;
  options.onEvent?.({ type: "resolved", repo, file: first.path, name, reason: choice.reason, size: total, sha256: undefined });

  const present = await Promise.all(
    destinations.map((d) =>
      stat(d).then(
        (s) => (s.isFile() ? s.size : undefined),
        () => undefined,
      ),
    ),
  );
  const base = { name, path: destinations[0] as string, repo, file: first.path, reason: choice.reason };
  if (!options.force && present.every((size) => size !== undefined)) {
    const result: PullResult = {
      ...base,
      size: present.reduce<number>((sum, size) => sum + (size ?? 0), 0),
      sha256: undefined,
      verified: false,
      alreadyInstalled: true,
      resumedFrom: 0,
      downloadedBytes: 0,
    };
    options.onEvent?.({ type: "done", result });
    return result;
  }

  let done = 0;
  let verified = true;
  let resumedFrom = 0;
  let downloadedBytes = 0;
  const whole = (p: DownloadProgress): DownloadProgress => {
    const doneBytes = done + p.doneBytes;
    return {
      ...p,
      file: first.path,
      totalBytes: total,
      doneBytes,
      resumedFrom: resumedFrom + p.resumedFrom,
      etaSeconds: total !== undefined && p.bytesPerSecond > 0 ? (total - doneBytes) / p.bytesPerSecond : undefined,
      sha256: undefined,
    };
  };
  for (const [i, part] of parts.entries()) {
    const destination = destinations[i] as string;
    const kept = options.force ? undefined : present[i];
    if (kept !== undefined) {
      done += kept;
      resumedFrom += kept;
      continue;
    }
    const last = i === parts.length - 1;
    const outcome = await downloadHubFile({
      hub,
      repo,
      file: part.path,
      name,
      destination,
      expectedSha256: part.sha256,
      expectedSize: part.size,
      signal: options.signal,
      onProgress: options.onProgress && ((p) => options.onProgress?.(whole(p))),
      onEvent: (event: PullEvent) => {
        if (event.type === "progress") options.onEvent?.({ type: "progress", ...whole(event) });
        // One verify and install step for the whole model (each part is still checked).
        else if (last) options.onEvent?.(event.type === "installing" ? { ...event, path: destinations[0] as string } : event);
      },
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      progressIntervalMs: options.progressIntervalMs,
    });
    done += outcome.size;
    verified &&= outcome.verified;
    resumedFrom += outcome.resumedFrom;
    downloadedBytes += outcome.downloadedBytes;
  }
  const result: PullResult = {
    ...base,
    size: done,
    sha256: undefined,
    verified,
    alreadyInstalled: false,
    resumedFrom,
    downloadedBytes,
  };
  options.onEvent?.({ type: "done", result });
  return result;
}
