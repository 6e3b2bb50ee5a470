import { GatewayError, rememberSecret } from "../core/index.js";
import { VERSION } from "../version.js";

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";
export const USER_AGENT = `tandem/${VERSION}`;

/** How to reach the Hugging Face hub. */
export interface HubOptions {
  /** The hub's origin (a mirror, or a fake in tests). Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Access token for private and gated repos, sent as `Authorization: Bearer`. Default: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN. */
  token?: string;
  /** Where HF_ENDPOINT / HF_TOKEN are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface HubConnection {
  /** Origin and optional path prefix, without a trailing slash. */
  endpoint: string;
  token: string | undefined;
}

export function resolveHubConnection(options: HubOptions = {}): HubConnection {
  const env = options.env ?? process.env;
  const endpoint = (options.endpoint ?? (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT)).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new GatewayError("invalid_request", `the Hugging Face endpoint '${endpoint}' is not a URL (check HF_ENDPOINT)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new GatewayError("invalid_request", `the Hugging Face endpoint '${endpoint}' is not http(s) (check HF_ENDPOINT)`);
  }
  const token = options.token ?? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined);
  const trimmed = token?.trim() || undefined;
  // A hub token is a key like any other: no error message may show it.
  rememberSecret(trimmed);
  return { endpoint, token: trimmed };
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

/** `owner/name`, as the hub spells repo ids; GatewayError `invalid_request` otherwise. */
export function checkRepoId(repo: string): string {
  if (!REPO_ID.test(repo) || repo.includes("..") || repo.length > 200) {
    throw new GatewayError(
      "invalid_request",
      `'${repo}' is not a Hugging Face repo id (expected owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF)`,
      {
        param: "repo",
      },
    );
  }
  return repo;
}

/** A path inside a repo (`model.gguf`, `Q4_K_M/model.gguf`): relative, no `.`/`..` segments, no backslashes. */
export function checkRepoFile(file: string): string {
  const segments = file.split("/");
  const bad =
    file.length === 0 ||
    file.length > 1000 ||
    file.includes("\\") ||
    [...file].some((c) => c.charCodeAt(0) < 0x20) ||
    segments.some((s) => s === "" || s === "." || s === "..");
  if (bad) throw new GatewayError("invalid_request", `'${file}' is not a file path inside a repo`, { param: "file" });
  return file;
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** `GET {endpoint}/api/models/{repo}`: the repo's metadata and its files (`siblings`); with `blobs`, their sizes and LFS sha256. */
export function repoInfoUrl(hub: HubConnection, repo: string, options: { blobs?: boolean } = {}): string {
  return `${hub.endpoint}/api/models/${encodePath(repo)}${options.blobs ? "?blobs=true" : ""}`;
}

/** `GET {endpoint}/{repo}/resolve/{revision}/{file}`: the file, or (for LFS files) a redirect to the CDN that has it. */
export function resolveFileUrl(hub: HubConnection, repo: string, file: string, revision = "main"): string {
  return `${hub.endpoint}/${encodePath(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

/** Headers for a request to the hub itself (never to a CDN it redirects to). */
export function hubHeaders(hub: HubConnection): Record<string, string> {
  return {
    "user-agent": USER_AGENT,
    ...(hub.token ? { authorization: `Bearer ${hub.token}` } : {}),
  };
}
