import { createHash, randomBytes } from "node:crypto";
import { copyFile, link, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { type CreateModelRequest, GatewayError } from "../core/index.js";
import { blobPath, hasBlob, parseDigest } from "./blob-store.js";
import { GgufError } from "./gguf-error.js";
import { readGgufInfo } from "./gguf-info.js";
import { type ModelSettings, readModelSettings, settingsPath, writeModelSettings } from "./model-settings.js";
import { checkModelName, GGUF_EXTENSION, installedModelPath, modelsDir } from "./model-store.js";

export type { CreateModelRequest };

/*
 * Ollama's model workflow over `<dataDir>/models`: copy, create (from a model or an uploaded GGUF
 * blob, with saved defaults) and the checks around them. The engine's provider resolves names and
 * unloads what it deletes; these functions only touch files.
 */

/** A local model by name, as the provider knows it. */
export interface LibraryModel {
  name: string;
  path: string;
}

/**
 * Ollama's runtime options a model may carry as defaults, with the kind of value each takes. Those
 * the engine honours are applied (see applyModelDefaults); the rest are kept and shown, as Ollama's.
 */
const KNOWN_PARAMETERS: Record<string, "number" | "boolean" | "stop"> = {
  num_ctx: "number",
  num_predict: "number",
  num_keep: "number",
  num_batch: "number",
  num_gpu: "number",
  main_gpu: "number",
  num_thread: "number",
  temperature: "number",
  top_k: "number",
  top_p: "number",
  min_p: "number",
  typical_p: "number",
  seed: "number",
  repeat_penalty: "number",
  repeat_last_n: "number",
  presence_penalty: "number",
  frequency_penalty: "number",
  use_mmap: "boolean",
  stop: "stop",
};

/** Checks `parameters` against Ollama's option names and types; invalid_request naming the first bad one. */
export function checkParameters(parameters: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (parameters === undefined) return undefined;
  for (const [key, value] of Object.entries(parameters)) {
    const kind = KNOWN_PARAMETERS[key];
    const bad = (expected: string) =>
      new GatewayError("invalid_request", `invalid value for parameter '${key}': expected ${expected}`, {
        param: `parameters.${key}`,
      });
    if (!kind) {
      throw new GatewayError(
        "invalid_request",
        `unknown parameter '${key}' (known: ${Object.keys(KNOWN_PARAMETERS).join(", ")})`,
        { param: `parameters.${key}` },
      );
    }
    if (kind === "number" && (typeof value !== "number" || !Number.isFinite(value))) throw bad("a number");
    if (kind === "boolean" && typeof value !== "boolean") throw bad("true or false");
    if (kind === "stop" && typeof value !== "string" && !(Array.isArray(value) && value.every((s) => typeof s === "string"))) {
      throw bad("a string or a list of strings");
    }
  }
  return parameters;
}

/** Whether a path is inside `<dataDir>/models` (a file tandem installed and may remove). */
export function isInModelsDir(dataDir: string, path: string): boolean {
  const rel = relative(modelsDir(dataDir), path);
  return rel !== "" && !rel.startsWith("..") && !rel.includes("/") && !rel.includes("\\");
}

/**
 * Puts `source`'s bytes at `destination`: a hard link when the file system allows (no second copy
 * of gigabytes), else a copy. Written beside the destination and renamed, so a reader never sees half.
 */
export async function placeModelFile(source: string, destination: string): Promise<void> {
  await mkdir(dirname(destination), { recursive: true });
  const temp = join(dirname(destination), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await link(source, temp).catch(() => copyFile(source, temp));
    await rename(temp, destination);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The name a model is made under in `<dataDir>/models` (create's `model`, copy's `destination`):
 * checked as a file name, with Ollama's `:latest` dropped. Throws invalid_request for a bad one.
 */
export function libraryModelName(name: string): string {
  return checkModelName(withoutLatest(name));
}

/** Copies a model (weights and settings) under a new name in `<dataDir>/models`. */
export async function copyModel(dataDir: string, source: LibraryModel, destination: string): Promise<string> {
  const name = libraryModelName(destination);
  refuseSplit(source, "copied");
  if (name === source.name) return name;
  const target = installedModelPath(dataDir, name);
  await placeModelFile(source.path, target);
  const settings = await readModelSettings(dataDir, source.name);
  await writeModelSettings(dataDir, name, settings ?? {});
  return name;
}

/** Removes a model's settings file (the weights are the caller's to remove). */
export async function removeModelSettings(dataDir: string, name: string): Promise<void> {
  await rm(settingsPath(dataDir, name), { force: true });
}

/**
 * Ollama's `/api/create`: a new model from an installed one (`from`) or from a GGUF uploaded as a
 * blob (`files`), with parameters, system prompt and template saved as its defaults. Each step is
 * reported as Ollama's status line text. `resolve` finds an installed model by name (undefined when
 * there is none).
 */
export async function createModel(
  dataDir: string,
  request: CreateModelRequest,
  resolve: (name: string) => Promise<LibraryModel | undefined>,
  onStatus: (status: string) => void,
  signal: AbortSignal,
): Promise<string> {
  const name = libraryModelName(request.name);
  if (request.quantize) {
    throw new GatewayError(
      "invalid_request",
      `tandem does not quantize models (quantize '${request.quantize}'): pull the quantization you want (hf.co/{repo}:${request.quantize.toUpperCase()}) or create from a GGUF that is already quantized`,
      { param: "quantize" },
    );
  }
  if (request.adapters && Object.keys(request.adapters).length > 0) {
    throw new GatewayError("invalid_request", "tandem does not apply LoRA adapters: create without 'adapters'", {
      param: "adapters",
    });
  }
  if (request.messages && request.messages.length > 0) {
    throw new GatewayError("invalid_request", "tandem does not store messages with a model: create without 'messages'", {
      param: "messages",
    });
  }
  const parameters = checkParameters(request.parameters);
  const files = Object.entries(request.files ?? {});
  if (files.length > 0 && request.from) {
    throw new GatewayError("invalid_request", "give either 'from' or 'files', not both", { param: "files" });
  }

  let weights: string;
  let base: ModelSettings | undefined;
  let from: string;
  if (files.length > 0) {
    weights = await blobWeights(dataDir, files, onStatus);
    from = weights;
  } else if (request.from) {
    const source = await resolve(request.from);
    if (!source) {
      throw new GatewayError("not_found", `model '${request.from}' not found: pull it or name an installed model in 'from'`, {
        param: "from",
      });
    }
    refuseSplit(source, "used in 'from'");
    weights = source.path;
    base = await readModelSettings(dataDir, source.name);
    from = source.name;
    onStatus(`using existing model ${source.name}`);
  } else {
    throw new GatewayError("invalid_request", "neither 'from' nor 'files' was specified", { param: "from" });
  }
  signal.throwIfAborted();

  const license = Array.isArray(request.license) ? request.license.join("\n") : request.license;
  const settings: ModelSettings = {
    from,
    ...(base?.parameters || parameters ? { parameters: { ...base?.parameters, ...parameters } } : {}),
    ...((request.system ?? base?.system) !== undefined && { system: request.system ?? base?.system }),
    ...((request.template ?? base?.template) !== undefined && { template: request.template ?? base?.template }),
    ...((license ?? base?.license) !== undefined && { license: license ?? base?.license }),
  };
  const settingsText = JSON.stringify(settings);
  onStatus(`creating new layer sha256:${createHash("sha256").update(settingsText).digest("hex")}`);
  const target = installedModelPath(dataDir, name);
  if (weights !== target) await placeModelFile(weights, target);
  onStatus("writing manifest");
  await writeModelSettings(dataDir, name, settings);
  onStatus("success");
  return name;
}

/** The one GGUF blob named in `files`, checked: uploaded, and a readable GGUF. */
async function blobWeights(dataDir: string, files: [string, string][], onStatus: (status: string) => void): Promise<string> {
  const ggufs = files.filter(([file]) => file.toLowerCase().endsWith(GGUF_EXTENSION));
  const others = files.filter(([file]) => !file.toLowerCase().endsWith(GGUF_EXTENSION));
  if (others.length > 0) {
    throw new GatewayError(
      "invalid_request",
      `tandem creates models from one GGUF file; '${others[0]?.[0]}' is not one (safetensors are not converted)`,
      { param: "files" },
    );
  }
  const [only, ...rest] = ggufs;
  if (!only || rest.length > 0) {
    throw new GatewayError("invalid_request", "'files' must name exactly one .gguf file", { param: "files" });
  }
  const [file, digest] = only;
  parseDigest(digest);
  if (!(await hasBlob(dataDir, digest))) {
    throw new GatewayError(
      "invalid_request",
      `blob ${digest} for '${file}' was not uploaded: send it first with POST /api/blobs/${digest}`,
      { param: "files" },
    );
  }
  const path = blobPath(dataDir, digest);
  onStatus("parsing GGUF");
  try {
    await readGgufInfo(path, { maxArrayItems: 0 });
  } catch (err) {
    throw new GatewayError(
      "invalid_request",
      `'${file}' is not a usable GGUF file: ${err instanceof GgufError ? err.message : (err as Error).message}`,
      { param: "files" },
    );
  }
  onStatus(`using existing layer ${digest}`);
  return path;
}

/** Bytes on disk of a model file, for listings. */
export async function fileSize(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.size;
}

/** A split model is several files; copy and create handle one, so they refuse it rather than copy a part. */
function refuseSplit(model: LibraryModel, what: string): void {
  if (/-\d{5}-of-\d{5}\.gguf$/i.test(model.path)) {
    throw new GatewayError("invalid_request", `${model.name} is split in several files and cannot be ${what} yet`, {
      param: "model",
    });
  }
}

/** `name:latest` is `name`, as Ollama's clients write an untagged name. */
function withoutLatest(name: string): string {
  return name.endsWith(":latest") ? name.slice(0, -":latest".length) : name;
}
