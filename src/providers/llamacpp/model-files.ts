import { open, readdir, stat } from "node:fs/promises";
import { freemem } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { GatewayError } from "../../core/index.js";

/** A local model as the config (or the data dir) names it. */
export interface LocalModelEntry {
  path: string;
  contextSize?: number;
  parallel?: number;
}

/** The models folder inside the data dir, where `tandem models pull` puts GGUF files. */
export function modelsDir(dataDir: string): string {
  return join(dataDir, "models");
}

/**
 * The provider's models: the configured ones (paths relative to the data dir), or, when none are
 * configured, every `*.gguf` in `<dataDir>/models`, named by file name without `.gguf`.
 */
export async function localModelEntries(
  dataDir: string,
  configured: Record<string, LocalModelEntry>,
): Promise<Map<string, LocalModelEntry>> {
  const names = Object.keys(configured);
  if (names.length > 0) {
    return new Map(
      names.map((name) => [
        name,
        { ...configured[name], path: resolvePath(dataDir, (configured[name] as LocalModelEntry).path) },
      ]),
    );
  }
  const dir = modelsDir(dataDir);
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return new Map();
  }
  return new Map(
    files
      .filter((f) => f.toLowerCase().endsWith(".gguf"))
      .sort()
      .map((f) => [f.slice(0, -".gguf".length), { path: join(dir, f) }]),
  );
}

function resolvePath(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dataDir, path);
}

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
/** Room the engine needs beyond the weights: context, compute buffers, the process itself. */
const OVERHEAD_BYTES = 256 * 1024 * 1024;

/**
 * Checks a model file before the engine is asked to load it: it exists, is a GGUF file of a version
 * llama.cpp reads, is not cut short, and fits in free memory. Each failure is a clear, non-retryable
 * error naming the file (the router moves on to another target).
 */
export async function checkModelFile(target: string, path: string, freeBytes: () => number = freemem): Promise<number> {
  const refuse = (why: string) =>
    new GatewayError("unavailable", `${target} cannot be loaded: ${path} ${why}`, { target, retryable: false });
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw refuse("is not a file.");
    size = info.size;
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw refuse(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  const header = Buffer.alloc(24);
  const file = await open(path, "r");
  try {
    const { bytesRead } = await file.read(header, 0, header.length, 0);
    if (bytesRead < header.length || header.readUInt32LE(0) !== GGUF_MAGIC) throw refuse("is not a GGUF model file.");
    const version = header.readUInt32LE(4);
    if (version < 2 || version > 3) throw refuse(`has GGUF version ${version}; llama.cpp reads versions 2 and 3.`);
    const tensors = header.readBigUInt64LE(8);
    if (tensors === 0n || tensors > 1_000_000n) throw refuse(`claims ${tensors} tensors: the file is damaged.`);
  } finally {
    await file.close();
  }
  const free = freeBytes();
  if (size + OVERHEAD_BYTES > free) {
    throw refuse(`needs about ${gib(size + OVERHEAD_BYTES)} of memory; ${gib(free)} is free.`);
  }
  return size;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
