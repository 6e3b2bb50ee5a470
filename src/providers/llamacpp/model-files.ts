import { realpath, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { GatewayError } from "../../core/index.js";
import { GgufError, type GgufInfo, installedModelFiles, readGgufInfo } from "../../models/index.js";
import type { GpuLayers, MemoryNeeds } from "./engine-protocol.js";

/** A local model as the config (or the data dir) names it. */
export interface LocalModelEntry {
  path: string;
  contextSize?: number;
  parallel?: number;
  gpuLayers?: GpuLayers;
  /** CPU threads; default the provider's. */
  threads?: number;
}

/**
 * The provider's models: the configured ones (paths relative to the data dir), and every `*.gguf`
 * in `<dataDir>/models` (as `tandem models pull` and Ollama's create/copy install them), named by
 * file name without `.gguf`; a configured name wins over a file of the same name.
 */
export async function localModelEntries(
  dataDir: string,
  configured: Record<string, LocalModelEntry>,
): Promise<Map<string, LocalModelEntry>> {
  const entries = configuredEntries(dataDir, configured);
  for (const [name, path] of await installedModelFiles(dataDir)) {
    if (!entries.has(name)) entries.set(name, { path });
  }
  return entries;
}

/** The configured models alone, their paths resolved against the data dir as the engine resolves them. */
function configuredEntries(dataDir: string, configured: Record<string, LocalModelEntry>): Map<string, LocalModelEntry> {
  return new Map(
    Object.keys(configured).map((name) => [
      name,
      { ...configured[name], path: resolvePath(dataDir, (configured[name] as LocalModelEntry).path) },
    ]),
  );
}

/** One model by name: a configured one without touching the disk, else `<dataDir>/models/<name>.gguf` when installed. */
export async function localModelEntry(
  dataDir: string,
  configured: Record<string, LocalModelEntry>,
  name: string,
): Promise<LocalModelEntry | undefined> {
  const entry = configured[name];
  if (entry) return { ...entry, path: resolvePath(dataDir, entry.path) };
  return (await localModelEntries(dataDir, configured)).get(name);
}

/**
 * The refusal of a model made (created, copied, pulled) under a name the config gives another file
 * than `destination`, where it would be installed: a configured name wins over a file of the models
 * folder (localModelEntries), so the new file would never be served while its saved settings would
 * apply to the configured one. A configured model whose file is that destination is replaced like
 * any other. Undefined when the name is free. `provider` is the provider's config name (`local`).
 */
export function configuredNameRefusal(
  provider: string,
  dataDir: string,
  configured: Record<string, LocalModelEntry>,
  name: string,
  destination: string,
): GatewayError | undefined {
  const entry = configured[name];
  if (entry === undefined) return undefined;
  const path = resolvePath(dataDir, entry.path);
  if (path === resolve(destination)) return undefined;
  const target = `${provider}/${name}`;
  return new GatewayError(
    "invalid_request",
    `${target} is configured with the file ${path} (providers.${provider}.models.${name}): a model made under that name would never be served, as the configured one is. Choose another name, or remove ${name} from the config first.`,
    { param: "model", target, retryable: false },
  );
}

/**
 * The other names (of `entries`, as localModelEntries gives them) whose model is the file `path`:
 * configured models that name the same file, and the file's own name in the models folder when the
 * config serves it under another. Compared by real path, so a symbolic link to the file counts. A
 * hard link is a file of its own (removing one name leaves the other), as Ollama keeps a blob while
 * another model's manifest uses it.
 */
export async function otherNamesOfFile(
  entries: ReadonlyMap<string, LocalModelEntry>,
  name: string | undefined,
  path: string,
): Promise<string[]> {
  const real = (p: string) => realpath(p).catch(() => resolve(p));
  const file = await real(path);
  const others: string[] = [];
  for (const [other, entry] of entries) {
    if (other !== name && (await real(entry.path)) === file) others.push(other);
  }
  return others;
}

/**
 * The configured models (one engine's `models`, relative paths against `dataDir`) whose file is
 * `path`, compared as otherNamesOfFile compares: what removing that file from the models folder
 * would take from them. `tandem models rm` refuses on it, as /api/delete (deleteModel) refuses to
 * take a file from the other names that serve it.
 */
export function configuredModelsOfFile(
  dataDir: string,
  configured: Record<string, LocalModelEntry>,
  path: string,
): Promise<string[]> {
  return otherNamesOfFile(configuredEntries(dataDir, configured), undefined, path);
}

function resolvePath(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dataDir, path);
}

/**
 * Checks a model file before the engine is asked to load it: it exists and its GGUF header is sound
 * (read without touching the tensors). Each failure is a clear, non-retryable error naming the file
 * (the router moves on to another target). Whether it fits in memory is the engine's to say
 * (`judgeFit` on its `MemoryNeeds`).
 */
export async function checkModelFile(target: string, path: string): Promise<GgufInfo> {
  const refuse = (why: string) =>
    new GatewayError("unavailable", `${target} cannot be loaded: ${why}`, { target, retryable: false });
  try {
    const info = await stat(path);
    if (!info.isFile()) throw refuse(`${path} is not a file.`);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw refuse(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  try {
    return await readGgufInfo(path);
  } catch (err) {
    throw refuse(err instanceof GgufError ? `${err.message}.` : `${path}: ${(err as Error).message}`);
  }
}

/** Whether a model fits in memory now, and if not, why, in words that name the file and the sizes. */
export interface MemoryFit {
  fits: boolean;
  needs: MemoryNeeds;
  /** Set when it does not fit. */
  reason: string | undefined;
}

/**
 * Decides from node-llama-cpp's estimates whether a model and its context fit in free RAM and VRAM:
 * node-llama-cpp found no GPU-layer split that fits, or the weights plus the context need more RAM
 * or more VRAM than is free.
 */
export function judgeFit(needs: MemoryNeeds): MemoryFit {
  const ram = needs.modelRam + needs.contextRam;
  const vram = needs.modelVram + needs.contextVram;
  const what = `${needs.path} with a ${needs.contextSize}-token context${needs.sequences > 1 ? ` x ${needs.sequences} sequences` : ""}`;
  const layers = needs.gpuLayers > 0 ? ` (${needs.gpuLayers}/${needs.totalLayers} layers on the GPU)` : "";
  let reason: string | undefined;
  if (needs.insufficient !== undefined) {
    reason = `${what} does not fit: ${needs.insufficient.replace(/\.$/, "")} (${size(needs.freeRam)} RAM, ${size(needs.freeVram)} VRAM free).`;
  } else if (ram > needs.freeRam) {
    reason = `${what} needs about ${size(ram)} of RAM${layers} (weights ${size(needs.modelRam)}, context ${size(needs.contextRam)}); ${size(needs.freeRam)} is free.`;
  } else if (vram > needs.freeVram) {
    reason = `${what} needs about ${size(vram)} of VRAM${layers}; ${size(needs.freeVram)} is free.`;
  }
  return { fits: reason === undefined, needs, reason };
}

function size(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.max(0, Math.round(bytes / 1024 ** 2))} MiB`;
}
