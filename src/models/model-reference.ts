import { GatewayError } from "../core/index.js";
import { checkRepoFile, checkRepoId } from "./hub-connection.js";
import { findModelAlias, MODEL_ALIASES, type ModelAlias } from "./model-aliases.js";

/** What a user asked to pull. */
export type ModelReference =
  | { kind: "alias"; alias: ModelAlias }
  /** A hub repo, with the file to fetch or a quant tag to pick one by (or neither). */
  | { kind: "hub"; repo: string; file?: string; quant?: string };

/** Hosts in front of a repo id that Ollama and users write: `hf.co/owner/repo:Q4_K_M`, a hub URL. */
const HUB_PREFIX = /^(?:https?:\/\/)?(?:www\.)?(?:hf\.co|huggingface\.co)\//i;
/** A file on this machine: an absolute or relative path, `~/...`, a `file:` URL, a Windows drive path, or a bare `x.gguf`. */
const LOCAL_FILE = /^(?:file:|\/|\.{1,2}[\\/]|~[\\/]|[A-Za-z]:[\\/]|[^/\\]+\.gguf$)/i;
/** Any other URL: tandem pulls from the Hugging Face hub (or the mirror HF_ENDPOINT names) only. */
const OTHER_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Parses what `tandem models pull` and Ollama's `/api/pull` accept:
 * - an alias: `qwen2.5-0.5b` (also Ollama-style `qwen2.5:0.5b`, and `:latest` is ignored);
 * - Ollama's Hugging Face syntax: `hf.co/{owner}/{repo}:{quant}` or `{owner}/{repo}:{quant}` (`:latest` = no tag);
 * - a repo and a file: `{owner}/{repo} {file}`, `{owner}/{repo}/{file}`, or a `.../resolve/main/{file}` URL;
 * - a repo alone: `{owner}/{repo}` (a GGUF is then picked from its files).
 * `file`, when given separately (the CLI's second argument), names the file.
 */
export function parseModelReference(reference: string, file?: string): ModelReference {
  const words = reference.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.length > 2) {
    throw new GatewayError("invalid_request", `expected an alias, a repo, or 'repo file'; got '${reference}'`, {
      param: "model",
    });
  }
  if (words.length === 2 && file !== undefined) {
    throw new GatewayError("invalid_request", `two files named: '${words[1]}' and '${file}'`, { param: "model" });
  }
  const named = words[1] ?? file;
  const first = words[0] ?? "";
  if (LOCAL_FILE.test(first)) throw notAHubReference(first, "is a file on this machine");
  if (!HUB_PREFIX.test(first) && OTHER_URL.test(first)) throw notAHubReference(first, "is not on the Hugging Face hub");
  const spec = first.replace(HUB_PREFIX, "");

  if (!spec.includes("/")) {
    if (named !== undefined)
      throw new GatewayError("invalid_request", `'${spec}' is not a repo (owner/name), so no file can be named in it`);
    return { kind: "alias", alias: aliasFor(spec) };
  }

  const segments = spec.split("/");
  let last = segments[segments.length - 1] ?? "";
  let quant: string | undefined;
  const colon = last.lastIndexOf(":");
  if (colon >= 0) {
    quant = last.slice(colon + 1);
    last = last.slice(0, colon);
    segments[segments.length - 1] = last;
    if (quant.toLowerCase() === "latest" || quant === "") quant = undefined;
  }
  const repo = checkRepoId(segments.slice(0, 2).join("/"));
  let rest = segments.slice(2);
  // A URL copied from the hub: owner/repo/resolve/main/file or owner/repo/blob/main/file.
  if ((rest[0] === "resolve" || rest[0] === "blob") && rest.length >= 3) rest = rest.slice(2);
  let path = rest.length > 0 ? rest.join("/") : undefined;
  if (path !== undefined && named !== undefined) {
    throw new GatewayError("invalid_request", `two files named: '${path}' and '${named}'`, { param: "model" });
  }
  path ??= named;
  if (path !== undefined && quant !== undefined) {
    throw new GatewayError("invalid_request", `name a file or a quant tag (':${quant}'), not both`, { param: "model" });
  }
  if (path !== undefined) return { kind: "hub", repo, file: checkRepoFile(path) };
  return quant === undefined ? { kind: "hub", repo } : { kind: "hub", repo, quant };
}

/**
 * The refusal of a pull of something that is no hub reference (a local file, another site's URL):
 * what a pull takes, and how a GGUF already on this machine is served instead. Nothing is fetched
 * from anywhere but the hub.
 */
function notAHubReference(reference: string, what: string): GatewayError {
  return new GatewayError(
    "invalid_request",
    `'${reference}' ${what}: pulling downloads from Hugging Face, and takes an alias (${MODEL_ALIASES[0]?.alias}), a repo (owner/name, owner/name:Q4_K_M, hf.co/owner/name:Q4_K_M) or a huggingface.co file URL. To serve a GGUF file you already have, copy or link it into the models folder (<dataDir>/models/<name>.gguf, served as local/<name>), name it in the config (providers.local.models.<name>.path), or upload it with POST /api/blobs and create a model from it with POST /api/create, as 'ollama create' with 'FROM ./file.gguf' does`,
    { param: "model" },
  );
}

function aliasFor(name: string): ModelAlias {
  const withoutLatest = name.replace(/:latest$/i, "");
  const alias = findModelAlias(withoutLatest) ?? findModelAlias(withoutLatest.replace(":", "-"));
  if (alias) return alias;
  throw new GatewayError(
    "not_found",
    `unknown model '${name}': use an alias (${MODEL_ALIASES.map((a) => a.alias).join(", ")}) or a Hugging Face repo (owner/name, owner/name:Q4_K_M, or owner/name file.gguf)`,
    { param: "model" },
  );
}
