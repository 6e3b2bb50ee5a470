import { readdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { GatewayError } from "../core/index.js";
import { readGgufInfo } from "./gguf-info.js";

export const GGUF_EXTENSION = ".gguf";
/** A part of a split model: `<name>-00001-of-00003.gguf`; the model is `<name>`, loaded from its first part. */
const SPLIT_FILE = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/;

/** The model a file in the models folder belongs to, and whether it is the file to load (a whole model or a first part). */
function modelOfFile(file: string): { name: string; loads: boolean } | undefined {
  if (!file.endsWith(GGUF_EXTENSION) || file.startsWith(".")) return undefined;
  const split = SPLIT_FILE.exec(file);
  if (split?.[1]) return { name: split[1], loads: split[2] === "00001" };
  return { name: file.slice(0, -GGUF_EXTENSION.length), loads: true };
}

/** The file name of part `index` (from 1) of a model split in `count` parts. */
export function splitPartName(name: string, index: number, count: number): string {
  return `${name}-${String(index).padStart(5, "0")}-of-${String(count).padStart(5, "0")}${GGUF_EXTENSION}`;
}

/** Bytes on disk of the model loaded from `path`: for a split model's first part, all its parts. */
export async function modelBytesOnDisk(path: string): Promise<number> {
  const dir = dirname(path);
  const file = basename(path);
  const split = SPLIT_FILE.exec(file);
  const files = split?.[1]
    ? Array.from({ length: Number(split[3]) }, (_, i) => splitPartName(split[1] as string, i + 1, Number(split[3])))
    : [file];
  let total = 0;
  for (const f of files) total += (await stat(join(dir, f)).catch(() => undefined))?.size ?? 0;
  return total;
}

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

/** Where a model installed under `name` (a pull, Ollama's create or copy) lives: `<dataDir>/models/<name>.gguf`. */
export function installedModelPath(dataDir: string, name: string): string {
  return join(modelsDir(dataDir), name + GGUF_EXTENSION);
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
    const of = modelOfFile(entry);
    if (!of?.loads) continue;
    options.signal?.throwIfAborted();
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    let size = info.size;
    if (of.name + GGUF_EXTENSION !== entry) {
      // A split model: its size is all its parts'.
      for (const other of entries) {
        if (other !== entry && modelOfFile(other)?.name === of.name && SPLIT_FILE.test(other)) {
          size += (await stat(join(dir, other)).catch(() => undefined))?.size ?? 0;
        }
      }
    }
    const model: InstalledModel = {
      name: of.name,
      path,
      size,
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
  const path = (await installedModelFiles(dataDir)).get(bare);
  if (path) return path;
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
  const parts = (await readdir(dir).catch(() => [] as string[])).filter((f) => {
    const m = SPLIT_FILE.exec(f.replace(/\.partial(\.json)?$/, ""));
    return m?.[1] === bare;
  });
  const candidates = [
    bare + GGUF_EXTENSION,
    bare + GGUF_EXTENSION + PARTIAL_SUFFIX,
    `${bare}${GGUF_EXTENSION}${PARTIAL_SUFFIX}.json`,
    ...parts,
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
  // Its saved defaults (Ollama's create) go with it.
  const settings = join(dir, `${bare}.json`);
  if (
    await rm(settings).then(
      () => true,
      () => false,
    )
  )
    removed.push(settings);
  return { name: bare, removed };
}

/** Names of the installed models, without reading their headers. */
export async function installedModelNames(dataDir: string): Promise<string[]> {
  return [...(await installedModelFiles(dataDir)).keys()];
}

/** The installed models by name, each with the file to load (a split model's first part), sorted by name. */
export async function installedModelFiles(dataDir: string): Promise<Map<string, string>> {
  const dir = modelsDir(dataDir);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: [string, string][] = [];
  for (const e of entries) {
    if (!(e.isFile() || e.isSymbolicLink())) continue;
    const of = modelOfFile(e.name);
    if (of?.loads) found.push([of.name, join(dir, e.name)]);
  }
  return new Map(found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function notInstalled(dataDir: string, name: string): Promise<GatewayError> {
  const names = await installedModelNames(dataDir);
  const known = names.length > 0 ? names.join(", ") : "none";
  return new GatewayError("not_found", `no model named '${name}' in ${modelsDir(dataDir)} (installed: ${known})`, {
    param: "name",
  });
}
