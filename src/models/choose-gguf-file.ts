import { GatewayError } from "../core/index.js";
import type { HubFile } from "./hub-api.js";

/** The file picked from a repo, and why (shown to the user). */
export interface GgufChoice {
  /** The file; for a split model its first part, with the size of all parts together. */
  file: HubFile;
  reason: string;
  /** A split model's parts in order (`-00001-of-00003.gguf` first), each with its own size and sha256. */
  parts?: HubFile[];
}

/** The quantization preferred when the user names none: the usual balance of size and quality. */
export const PREFERRED_QUANT = "Q4_K_M";

/** `model-00001-of-00003.gguf`: one part of a split model (llama.cpp loads them all given the first). */
export const SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** A quantization tag at the end of a GGUF file name: `...-Q4_K_M.gguf`, `...q8_0.gguf`, `...-IQ4_XS.gguf`, `...-f16.gguf`. */
const QUANT_TAG = /(?:^|[-._])((?:I?Q\d+(?:_[A-Z0-9]+)*)|BF16|F16|F32)$/i;

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The quantization tag in a GGUF file's name, upper-cased (`Q4_K_M`), when it has one. */
export function quantTagOf(path: string): string | undefined {
  const stem = baseName(path)
    .replace(SPLIT_PART, "")
    .replace(/\.gguf$/i, "");
  return QUANT_TAG.exec(stem)?.[1]?.toUpperCase();
}

function describe(files: readonly HubFile[]): string {
  return files
    .map((f) => f.path)
    .sort()
    .join(", ");
}

/**
 * Picks the GGUF to download from a repo's files. With `quant` (Ollama's `repo:Q4_K_M` tag), the
 * GGUF whose name contains it (case-insensitive; an exact tag match wins over a longer one).
 * Without, the only GGUF, else the Q4_K_M one, else the smallest when the sizes are known.
 * Vision projectors (`mmproj`) and parts of split models are never picked. Throws GatewayError
 * (`not_found` or `invalid_request`) listing the candidates when there is no clear choice.
 */
export function chooseGgufFile(repo: string, files: readonly HubFile[], quant?: string): GgufChoice {
  const ggufs = files.filter((f) => f.path.toLowerCase().endsWith(".gguf") && !baseName(f.path).toLowerCase().includes("mmproj"));
  const sets = splitSets(ggufs);
  const whole = [...ggufs.filter((f) => !SPLIT_PART.test(f.path)), ...sets.keys()];
  const choice = (file: HubFile, reason: string): GgufChoice => {
    const parts = sets.get(file);
    return parts ? { file, reason: `${reason}, in ${parts.length} parts`, parts } : { file, reason };
  };
  if (whole.length === 0) {
    if (ggufs.length > 0) {
      throw new GatewayError("invalid_request", `${repo} has only incomplete split GGUF models (${describe(ggufs)})`);
    }
    throw new GatewayError("not_found", `${repo} has no GGUF file${files.length > 0 ? ` (files: ${describe(files)})` : ""}`);
  }

  if (quant !== undefined && quant !== "") {
    const tag = quant.toLowerCase();
    let matches = whole.filter((f) => baseName(f.path).toLowerCase().includes(tag));
    if (matches.length > 1) {
      const exact = matches.filter((f) => quantTagOf(f.path)?.toLowerCase() === tag);
      if (exact.length > 0) matches = exact;
    }
    if (matches.length === 1 && matches[0]) return choice(matches[0], `its name matches '${quant}'`);
    if (matches.length === 0) {
      throw new GatewayError("not_found", `${repo} has no GGUF matching '${quant}' (GGUF files: ${describe(whole)})`);
    }
    throw new GatewayError("invalid_request", `${repo}: '${quant}' matches several GGUF files (${describe(matches)}); name one`);
  }

  if (whole.length === 1 && whole[0]) return choice(whole[0], "the only GGUF in the repo");
  const preferred = whole.filter((f) => quantTagOf(f.path) === PREFERRED_QUANT);
  if (preferred.length === 1 && preferred[0]) return choice(preferred[0], `${PREFERRED_QUANT}, the usual size/quality balance`);
  const pool = preferred.length > 1 ? preferred : whole;
  if (pool.every((f) => f.size !== undefined)) {
    const smallest = [...pool].sort((a, b) => (a.size ?? 0) - (b.size ?? 0) || a.path.localeCompare(b.path))[0];
    if (smallest) return choice(smallest, `the smallest of ${pool.length} GGUF files`);
  }
  throw new GatewayError("invalid_request", `${repo} has several GGUF files (${describe(whole)}); name one`);
}

/**
 * The complete split models among a repo's GGUF files, each keyed by a stand-in for the whole set:
 * its first part's path with the size of all parts (unknown when any part's is). A set missing a
 * part is left out: it cannot load.
 */
export function splitSets(files: readonly HubFile[]): Map<HubFile, HubFile[]> {
  const groups = new Map<string, HubFile[]>();
  for (const f of files) {
    const m = SPLIT_PART.exec(f.path);
    if (!m) continue;
    const key = `${f.path.slice(0, m.index)}\0${m[2]}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const sets = new Map<HubFile, HubFile[]>();
  for (const parts of groups.values()) {
    const sorted = [...parts].sort((a, b) => a.path.localeCompare(b.path));
    const count = Number(SPLIT_PART.exec(sorted[0]?.path ?? "")?.[2]);
    const complete = sorted.length === count && sorted.every((p, i) => Number(SPLIT_PART.exec(p.path)?.[1]) === i + 1);
    const first = sorted[0];
    if (!complete || !first) continue;
    const size = sorted.every((p) => p.size !== undefined) ? sorted.reduce((sum, p) => sum + (p.size ?? 0), 0) : undefined;
    sets.set({ path: first.path, ...(size !== undefined && { size }) }, sorted);
  }
  return sets;
}
