import { type Dispatcher, request } from "undici";
import { z } from "zod";
import { GatewayError } from "../core/index.js";
import { checkRepoId, type HubConnection, hubHeaders, repoInfoUrl } from "./hub-connection.js";
import { hubError, hubNetworkError } from "./hub-error.js";

/** One file of a hub repo. */
export interface HubFile {
  /** Path inside the repo (`rfilename`). */
  path: string;
  /** Bytes, when the hub said. */
  size?: number;
  /** The LFS object's sha256 (hex), when the file is in LFS. */
  sha256?: string;
}

/** The part of `GET /api/models/{repo}?blobs=true` tandem uses (huggingface_hub's ModelInfo / RepoSibling). */
const repoInfoSchema = z.object({
  siblings: z
    .array(
      z.object({
        rfilename: z.string(),
        size: z.number().optional(),
        lfs: z.object({ sha256: z.string().optional(), size: z.number().optional() }).nullish(),
      }),
    )
    .default([]),
});

const MAX_REDIRECTS = 5;

/** The files of a model repo, from the hub API. Hub errors become GatewayErrors that say what to do (see hubError). */
export async function listRepoFiles(
  hub: HubConnection,
  repo: string,
  options: { signal?: AbortSignal } = {},
): Promise<HubFile[]> {
  checkRepoId(repo);
  let url = repoInfoUrl(hub, repo, { blobs: true });
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "GET",
        headers: { ...hubHeaders(hub), accept: "application/json" },
        signal: options.signal,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
    } catch (err) {
      throw hubNetworkError(err, url, options.signal);
    }
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === "string" && hop < MAX_REDIRECTS) {
      // A renamed repo redirects to its new name on the same hub.
      await res.body.dump().catch(() => {});
      const next = new URL(location, url);
      if (next.origin !== new URL(hub.endpoint).origin) {
        throw new GatewayError("upstream_error", `the hub redirected the file list of ${repo} to another site (${next.origin})`);
      }
      url = next.href;
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => {});
      throw hubError(res.statusCode, res.headers, { hub, repo });
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw hubNetworkError(err, url, options.signal);
    }
    let parsed: z.infer<typeof repoInfoSchema>;
    try {
      parsed = repoInfoSchema.parse(JSON.parse(text));
    } catch {
      throw new GatewayError("upstream_error", `the hub's file list for ${repo} is not what was expected (${url})`);
    }
    return parsed.siblings.map((s) => ({
      path: s.rfilename,
      size: s.lfs?.size ?? s.size,
      sha256: s.lfs?.sha256 && /^[0-9a-f]{64}$/.test(s.lfs.sha256) ? s.lfs.sha256 : undefined,
    }));
  }
}
