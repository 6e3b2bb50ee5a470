import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { GatewayError } from "../core/index.js";
import { readGgufInfo } from "./gguf-info.js";

export const GGUF_EXTENSION = ".gguf";
/** An unfinished download: `<name>.gguf.partial`, with its `.partial.json` note beside it. */
export const PARTIAL_SUFFIX = ".partial";

/** A GGUF file installed in `<dataDir>/models/`. */
export interface InstalledModel {
  /** The file name without `.gguf`: what `local/<name>` refers to. */
  name: string;
  path: string;
  /** Bytes on disk. */
  size: number;
  modifiedAt: Date;
  architecture?: string;
  /** `Q4_K_M`, `F16`...; see GgufInfo.quantization. */
  quantization?: string;
  /** The trained context length in tokens. */
  contextLength?: number;
  hasChatTemplate?: boolean;
  /** Set when the file's header cannot be read; the other metadata is then absent. */
  error?: string;
}

/** Where models live: `<dataDir>/models`. */
export function modelsDir(dataDir: string): string {
  return join(dataDir, "models");
}

/**
 * A model name is a plain file name: no path separators, no `..`, nothing hidden. A trailing
 * `.gguf` is accepted and dropped. Throws GatewayError `invalid_request` otherwise.
 */
export function checkModelName(name: string): string {
  const bare = name.endsWith(GGUF_EXTENSION) ? name.slice(0, -GGUF_EXTENSION.length) : name;
  let problem: string | undefined;
  if (bare.length === 0) problem = "is empty";
  else if (/[/\\]/.test(bare)) problem = "contains a path separator";
  else if (bare.startsWith(".")) problem = "starts with '.'";
  else if ([...bare].some((c) => c.charCodeAt(0) < 0x20)) problem = "contains a control character";
  else if (bare.length > 200) problem = "is longer than 200 characters";
  if (problem) throw new GatewayError("invalid_request", `invalid model name '${name}': it ${problem}`, { param: "name" });
  return bare;
}

/** Installed models, by name, with what their headers say. A file whose header cannot be read is listed with `error`. */
export async function listInstalledModels(dataDir: string, options: { signal?: AbortSignal } = {}): Promise<InstalledModel[]> {
  const dir = modelsDir(dataDir);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new GatewayError("internal", `cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const models: InstalledModel[] = [];
  for (const entry of entries.sort()) {
    if (!entry.endsWith(GGUF_EXTENSION) || entry.startsWith(".")) continue;
    options.signal?.throwIfAborted();
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const model: InstalledModel = {
      name: entry.slice(0, -GGUF_EXTENSION.length),
      path,
      size: info.size,
      modifiedAt: info.mtime,
    };
    try {
      const gguf = await readGgufInfo(path, { signal: options.signal, maxArrayItems: 0 });
      model.architecture = gguf.architecture;
      model.quantization = gguf.quantization;
      model.contextLength = gguf.contextLength;
      model.hasChatTemplate = gguf.hasChatTemplate;
    } catch (err) {
      options.signal?.throwIfAborted();
      model.error = (err as Error).message;
    }
    models.push(model);
  }
  return models;
}

/** The path of an installed model; GatewayError `not_found` listing what is installed when there is none by that name. */
export async function resolveModelPath(dataDir: string, name: string): Promise<string> {
  const bare = checkModelName(name);
  const path = join(modelsDir(dataDir), bare + GGUF_EXTENSION);
  const info = await stat(path).catch(() => undefined);
  if (info?.isFile()) return path;
  throw await notInstalled(dataDir, bare);
}

export interface RemovedModel {
  name: string;
  /** Every file deleted: the model and any unfinished download of it. */
  removed: string[];
}

/** Deletes an installed model (and any unfinished download of the same name). */
export async function removeModel(dataDir: string, name: string): Promise<RemovedModel> {
  const bare = checkModelName(name);
  const dir = modelsDir(dataDir);
  const candidates = [
    bare + GGUF_EXTENSION,
    bare + GGUF_EXTENSION + PARTIAL_SUFFIX,
    `${bare}${GGUF_EXTENSION}${PARTIAL_SUFFIX}.json`,
  ];
  const removed: string[] = [];
  for (const file of candidates) {
    const path = join(dir, file);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    try {
      await rm(path);
    } catch (err) {
      throw new GatewayError("internal", `cannot delete ${path}: ${(err as Error).message}`, { cause: err });
    }
    removed.push(path);
  }
  if (removed.length === 0) throw await notInstalled(dataDir, bare);
  return { name: bare, removed };
}

/** Names of the installed models, without reading their headers. */
export async function installedModelNames(dataDir: string): Promise<string[]> {
  const entries = await readdir(modelsDir(dataDir), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith(GGUF_EXTENSION) && !e.name.startsWith("."))
    .map((e) => e.name.slice(0, -GGUF_EXTENSION.length))
    .sort();
}

async function notInstalled(dataDir: string, name: string): Promise<GatewayError> {
  const names = await installedModelNames(dataDir);
  const known = names.length > 0 ? names.join(", ") : "none";
  return new GatewayError("not_found", `no model named '${name}' in ${modelsDir(dataDir)} (installed: ${known})`, {
    param: "name",
  });
}
