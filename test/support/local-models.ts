import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The shared tiny GGUF models (see the workspace's shared/models/README.md): TANDEM_TEST_MODELS, else
 * the first `shared/models` found beside the repository or above it. They are never committed here.
 */
export const SHARED_MODELS_DIR = findModelsDir();

function findModelsDir(): string {
  if (process.env.TANDEM_TEST_MODELS) return process.env.TANDEM_TEST_MODELS;
  let dir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, "..", "shared", "models");
    if (existsSync(join(candidate, "SHA256SUMS"))) return candidate;
    dir = join(dir, "..");
  }
  throw new Error("The tiny test models were not found: set TANDEM_TEST_MODELS to the folder holding stories260K.gguf.");
}

const verified = new Set<string>();

/** The path of a shared test model, after checking its sha256 (a truncated or LFS-pointer file fails clearly). */
export function sharedModel(file: "stories260K.gguf" | "llama-2-tiny-random.gguf"): string {
  const path = join(SHARED_MODELS_DIR, file);
  if (!verified.has(path)) {
    const sums = readFileSync(join(SHARED_MODELS_DIR, "SHA256SUMS"), "utf8");
    const expected = sums
      .split("\n")
      .map((l) => l.trim().split(/\s+\*?/))
      .find(([, name]) => name === file)?.[0];
    const actual = createHash("sha256").update(readFileSync(path)).digest("hex");
    if (!expected || expected !== actual) {
      throw new Error(`test model ${path} does not match SHA256SUMS (expected ${expected ?? "an entry"}, got ${actual})`);
    }
    verified.add(path);
  }
  return path;
}
