import { stat } from "node:fs/promises";
import { freemem } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { GatewayError } from "../../core/index.js";
import { GgufError, type GgufInfo, installedModelFiles, readGgufInfo } from "../../models/index.js";

/** A local model as the config (or the data dir) names it. */
export interface LocalModelEntry {
  path: string;
  contextSize?: number;
  parallel?: number;
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
  const entries = new Map<string, LocalModelEntry>(
    Object.keys(configured).map((name) => [
      name,
      { ...configured[name], path: resolvePath(dataDir, (configured[name] as LocalModelEntry).path) },
    ]),
  );
  for (const [name, path] of await installedModelFiles(dataDir)) {
    if (!entries.has(name)) entries.set(name, { path });
  }
  return entries;
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

function resolvePath(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dataDir, path);
}

/** Room the engine needs beyond the weights: context, compute buffers, the process itself. */
const OVERHEAD_BYTES = 256 * 1024 * 1024;

/**
 * Checks a model file before the engine is asked to load it: it exists, its GGUF header is sound
 * (read without touching the tensors), and it fits in free memory. Each failure is a clear,
 * non-retryable error naming the file (the router moves on to another target).
 */
export async function checkModelFile(target: string, path: string, freeBytes: () => number = freemem): Promise<GgufInfo> {
  const refuse = (why: string) =>
    new GatewayError("unavailable", `${target} cannot be loaded: ${why}`, { target, retryable: false });
  try {
    const info = await stat(path);
    if (!info.isFile()) throw refuse(`${path} is not a file.`);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw refuse(`${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  let gguf: GgufInfo;
  try {
    gguf = await readGgufInfo(path);
  } catch (err) {
    throw refuse(err instanceof GgufError ? `${err.message}.` : `${path}: ${(err as Error).message}`);
  }
  const free = freeBytes();
  if (gguf.fileSize + OVERHEAD_BYTES > free) {
    throw refuse(`${path} needs about ${gib(gguf.fileSize + OVERHEAD_BYTES)} of memory; ${gib(free)} is free.`);
  }
  return gguf;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
