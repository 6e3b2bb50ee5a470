import { GatewayError } from "../core/index.js";
import type { HubFile } from "./hub-api.js";

/** The file picked from a repo, and why (shown to the user). */
export interface GgufChoice {
  file: HubFile;
  reason: string;
}

/** The quantization preferred when the user names none: the usual balance of size and quality. */
export const PREFERRED_QUANT = "Q4_K_M";

/** `model-00001-of-00003.gguf`: one part of a split model, which does not load on its own. */
const SPLIT_PART = /-\d{5}-of-\d{5}\.gguf$/i;

/** A quantization tag at the end of a GGUF file name: `...-Q4_K_M.gguf`, `...q8_0.gguf`, `...-IQ4_XS.gguf`, `...-f16.gguf`. */
const QUANT_TAG = /(?:^|[-._])((?:I?Q\d+(?:_[A-Z0-9]+)*)|BF16|F16|F32)$/i;

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The quantization tag in a GGUF file's name, upper-cased (`Q4_K_M`), when it has one. */
export function quantTagOf(path: string): string | undefined {
  const stem = baseName(path).replace(/\.gguf$/i, "");
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
  const whole = ggufs.filter((f) => !SPLIT_PART.test(f.path));
  if (whole.length === 0) {
    if (ggufs.length > 0) {
      throw new GatewayError(
        "invalid_request",
        `${repo} has only split GGUF models (${describe(ggufs)}), which tandem cannot load as one file yet`,
      );
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
    if (matches.length === 1 && matches[0]) return { file: matches[0], reason: `its name matches '${quant}'` };
    if (matches.length === 0) {
      const splitMatches = ggufs.filter((f) => SPLIT_PART.test(f.path) && baseName(f.path).toLowerCase().includes(tag));
      if (splitMatches.length > 0) {
        throw new GatewayError(
          "invalid_request",
          `${repo}: '${quant}' is only available as a split model, which tandem cannot load yet`,
        );
      }
      throw new GatewayError("not_found", `${repo} has no GGUF matching '${quant}' (GGUF files: ${describe(whole)})`);
    }
    throw new GatewayError("invalid_request", `${repo}: '${quant}' matches several GGUF files (${describe(matches)}); name one`);
  }

  if (whole.length === 1 && whole[0]) return { file: whole[0], reason: "the only GGUF in the repo" };
  const preferred = whole.filter((f) => quantTagOf(f.path) === PREFERRED_QUANT);
  if (preferred.length === 1 && preferred[0])
    return { file: preferred[0], reason: `${PREFERRED_QUANT}, the usual size/quality balance` };
  const pool = preferred.length > 1 ? preferred : whole;
  if (pool.every((f) => f.size !== undefined)) {
    const smallest = [...pool].sort((a, b) => (a.size ?? 0) - (b.size ?? 0) || a.path.localeCompare(b.path))[0];
    if (smallest) return { file: smallest, reason: `the smallest of ${pool.length} GGUF files` };
  }
  throw new GatewayError("invalid_request", `${repo} has several GGUF files (${describe(whole)}); name one`);
}
