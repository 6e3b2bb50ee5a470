/**
 * A fake Hugging Face hub on 127.0.0.1 that answers the way huggingface.co does for what tandem
 * uses (checked against huggingface_hub's file_download.py / hf_api.py / utils/_http.py):
 *
 * - `GET /api/models/{owner}/{repo}` → the repo's info with `siblings: [{rfilename}]`; with
 *   `?blobs=true` each sibling also has `size`, `blobId` and, for LFS files, `lfs: {sha256, size, pointerSize}`.
 * - `GET|HEAD /{owner}/{repo}/resolve/{revision}/{file}` → for an LFS file a 302 to the CDN with
 *   `X-Linked-Etag` (the quoted sha256), `X-Linked-Size`, `X-Repo-Commit`; a small non-LFS file is
 *   answered directly with its git blob id as ETag.
 * - The CDN, on a second listener (another origin, as the real CDN is), serves `/cdn/{sha256}`
 *   with `Accept-Ranges: bytes`, 206 for `Range: bytes=N-`, 416 past the end.
 * - Errors as the hub sends them: `X-Error-Code` (RepoNotFound, GatedRepo, EntryNotFound,
 *   RevisionNotFound) and `X-Error-Message` headers and a `{"error": ...}` body; 401 for a missing
 *   repo without a token (the hub does not reveal whether it exists), 404 with a valid one; 401
 *   "Invalid credentials in Authorization header" for an unknown token.
 *
 * Fault switches (in `faults`, changeable between requests) break the CDN transfer in the ways
 * that matter for downloads: drop the connection after N bytes, stall after N bytes, ignore
 * Range, advertise a wrong checksum, or answer every resolve with a given status.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeHubFile {
  /** Path inside the repo. */
  path: string;
  content: Buffer;
  /** Stored in LFS (redirected to the CDN, sha256 ETag). Default: true for .gguf files. */
  lfs?: boolean;
}

export interface FakeHubRepo {
  /** `owner/name`. */
  id: string;
  files: FakeHubFile[];
  /** Private: invisible (401/404 RepoNotFound) without a token in `tokens`. */
  private?: boolean;
  /** Gated: the listing is public, files need a token in `grantedTokens`. */
  gated?: boolean;
  /** Tokens whose accounts accepted a gated repo's conditions (or may read a private one). */
  grantedTokens?: string[];
}

export interface FakeHubFaults {
  /** CDN transfers close the connection after sending this many body bytes. */
  dropAfterBytes?: number;
  /** How many transfers `dropAfterBytes` applies to, counted down per CDN request. Default: 1 when dropAfterBytes is set. */
  dropTimes?: number;
  /** CDN transfers send this many bytes and then go silent with the connection open. */
  stallAfterBytes?: number;
  /** The CDN ignores Range and always answers 200 with the whole file. */
  ignoreRange?: boolean;
  /** The hub advertises a sha256 (X-Linked-Etag and the listing's lfs.sha256) that is not the file's. */
  wrongChecksum?: boolean;
  /** Every resolve request is answered with this status (401, 403, 404, 500...) and the hub's matching error headers. */
  resolveStatus?: number;
}

export interface FakeHubRequest {
  server: "hub" | "cdn";
  method: string;
  /** Path with query. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  /** Body bytes written (for the CDN: file bytes sent). */
  bytesSent: number;
}

export interface FakeHfHub {
  /** The hub's origin, for HF_ENDPOINT. */
  readonly url: string;
  /** The CDN's origin. */
  readonly cdnUrl: string;
  readonly requests: FakeHubRequest[];
  /** Fault switches; set and clear them between requests. */
  readonly faults: FakeHubFaults;
  /** The file's sha256 (hex). */
  sha256(content: Buffer): string;
  /** File bytes the CDN has sent in total. */
  cdnBytesSent(): number;
  close(): Promise<void>;
}

export interface FakeHfHubOptions {
  repos: FakeHubRepo[];
  /** Tokens the hub knows (any other bearer token is rejected as invalid). Default: none. */
  tokens?: string[];
}

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function sha256Of(content: Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** A git blob id, as the hub reports for files (sha1 of "blob <size>\0" + content). */
function gitBlobId(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

function isLfs(file: FakeHubFile): boolean {
  return file.lfs ?? file.path.toLowerCase().endsWith(".gguf");
}

export async function startFakeHfHub(options: FakeHfHubOptions): Promise<FakeHfHub> {
  const tokens = new Set(options.tokens ?? []);
  const requests: FakeHubRequest[] = [];
  const faults: FakeHubFaults = {};
  let cdnBytes = 0;
  const byHash = new Map<string, Buffer>();
  for (const repo of options.repos) for (const f of repo.files) byHash.set(sha256Of(f.content), f.content);

  const hub = createServer((req, res) => void handleHub(req, res));
  const cdn = createServer((req, res) => void handleCdn(req, res));
  await Promise.all([listen(hub), listen(cdn)]);
  const url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  function record(server: "hub" | "cdn", req: IncomingMessage, status: number, bytesSent: number): FakeHubRequest {
    const entry: FakeHubRequest = {
      server,
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: { ...req.headers },
      status,
      bytesSent,
    };
    requests.push(entry);
    return entry;
  }

  function advertisedSha(content: Buffer): string {
    return faults.wrongChecksum ? sha256Of(Buffer.concat([content, Buffer.from("tampered")])) : sha256Of(content);
  }

  /** undefined: anonymous; null: an invalid token; else the token. */
  function bearer(req: IncomingMessage): string | undefined | null {
    const auth = req.headers.authorization;
    if (!auth) return undefined;
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    return token && tokens.has(token) ? token : null;
  }

  function sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string | undefined, message: string): void {
    const body = JSON.stringify({ error: message });
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      "x-error-message": message,
    };
    if (code) headers["x-error-code"] = code;
    res.writeHead(status, headers);
    res.end(req.method === "HEAD" ? undefined : body);
    record("hub", req, status, 0);
  }

  /** The hub's access rules for a repo; sends the error and returns undefined when access is refused. */
  function access(req: IncomingMessage, res: ServerResponse, repoId: string, forFile: boolean): FakeHubRepo | undefined {
    const token = bearer(req);
    if (token === null) {
      sendError(req, res, 401, undefined, "Invalid credentials in Authorization header");
      return undefined;
    }
    const repo = options.repos.find((r) => r.id === repoId);
    const granted = token !== undefined && (repo?.grantedTokens ?? []).includes(token);
    if (!repo || (repo.private && !granted)) {
      const status = token === undefined ? 401 : 404;
      sendError(req, res, status, "RepoNotFound", "Repository not found");
      return undefined;
    }
    if (forFile && repo.gated && !granted) {
      if (token === undefined) {
        sendError(
          req,
          res,
          401,
          "GatedRepo",
          `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        );
      } else {
        sendError(
          req,
          res,
          403,
          "GatedRepo",
          `Access to model ${repo.id} is restricted and you are not in the authorized list. Visit https://huggingface.co/${repo.id} to ask for access.`,
        );
      }
      return undefined;
    }
    return repo;
  }

  async function handleHub(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://hub");
    const path = decodeURIComponent(url.pathname);

    const api = /^\/api\/models\/([^/]+\/[^/]+)$/.exec(path);
    if (api && req.method === "GET") {
      const repo = access(req, res, api[1] ?? "", false);
      if (!repo) return;
      const blobs = url.searchParams.get("blobs") === "true";
      const siblings = repo.files.map((f) => {
        if (!blobs) return { rfilename: f.path };
        const sibling: Record<string, unknown> = { rfilename: f.path, blobId: gitBlobId(f.content), size: f.content.length };
        if (isLfs(f)) sibling.lfs = { sha256: advertisedSha(f.content), size: f.content.length, pointerSize: 134 };
        return sibling;
      });
      const [author] = repo.id.split("/");
      const body = JSON.stringify({
        _id: createHash("md5").update(repo.id).digest("hex").slice(0, 24),
        id: repo.id,
        modelId: repo.id,
        author,
        sha: COMMIT,
        lastModified: "2024-09-19T09:40:52.000Z",
        private: repo.private ?? false,
        gated: repo.gated ? "auto" : false,
        disabled: false,
        downloads: 1234,
        likes: 56,
        library_name: "gguf",
        tags: ["gguf", "text-generation", "conversational"],
        pipeline_tag: "text-generation",
        siblings,
      });
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": String(Buffer.byteLength(body)),
      });
      res.end(body);
      record("hub", req, 200, Buffer.byteLength(body));
      return;
    }

    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve && (req.method === "GET" || req.method === "HEAD")) {
      if (faults.resolveStatus !== undefined) {
        const status = faults.resolveStatus;
        const code =
          status === 401 ? "RepoNotFound" : status === 403 ? "GatedRepo" : status === 404 ? "EntryNotFound" : undefined;
        const message =
          status === 401
            ? "Repository not found"
            : status === 404
              ? "Entry not found"
              : status === 403
                ? "Access to this model is restricted"
                : "Internal Error";
        sendError(req, res, status, code, message);
        return;
      }
      const repo = access(req, res, resolve[1] ?? "", true);
      if (!repo) return;
      if (resolve[2] !== "main" && resolve[2] !== COMMIT) {
        sendError(req, res, 404, "RevisionNotFound", `Invalid rev id: ${resolve[2]}`);
        return;
      }
      const file = repo.files.find((f) => f.path === resolve[3]);
      if (!file) {
        sendError(req, res, 404, "EntryNotFound", "Entry not found");
        return;
      }
      if (isLfs(file)) {
        const sha = advertisedSha(file.content);
        const location = `${cdnUrl}/cdn/${sha256Of(file.content)}?response-content-disposition=attachment&X-Amz-Expires=3600`;
        const body = `Found. Redirecting to ${location}`;
        res.writeHead(302, {
          location,
          "x-linked-etag": `"${sha}"`,
          "x-linked-size": String(file.content.length),
          "x-repo-commit": COMMIT,
          etag: `"${sha}"`,
          "content-type": "text/plain; charset=utf-8",
          "content-length": String(Buffer.byteLength(body)),
        });
        res.end(req.method === "HEAD" ? undefined : body);
        record("hub", req, 302, 0);
        return;
      }
      res.writeHead(200, {
        etag: `"${gitBlobId(file.content)}"`,
        "x-repo-commit": COMMIT,
        "content-type": "application/octet-stream",
        "content-length": String(file.content.length),
      });
      res.end(req.method === "HEAD" ? undefined : file.content);
      record("hub", req, 200, req.method === "HEAD" ? 0 : file.content.length);
      return;
    }
    sendError(req, res, 404, undefined, "Not Found");
  }

  async function handleCdn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://cdn");
    const sha = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const content = sha ? byHash.get(sha) : undefined;
    if (!content) {
      res.writeHead(404, { "content-type": "application/xml" });
      res.end("<Error><Code>NoSuchKey</Code></Error>");
      record("cdn", req, 404, 0);
      return;
    }
    const size = content.length;
    const common = {
      "accept-ranges": "bytes",
      etag: `"${createHash("md5").update(content).digest("hex")}"`,
      "content-type": "application/octet-stream",
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ""));
    if (range && !faults.ignoreRange) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
      if (start >= size) {
        res.writeHead(416, { ...common, "content-range": `bytes */${size}` });
        res.end();
        record("cdn", req, 416, 0);
        return;
      }
      status = 206;
    }
    const slice = content.subarray(start, end + 1);
    res.writeHead(status, {
      ...common,
      "content-length": String(slice.length),
      ...(status === 206 ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
    });
    const entry = record("cdn", req, status, 0);
    if (req.method === "HEAD") {
      res.end();
      return;
    }

    let limit = slice.length;
    let after: "drop" | "stall" | undefined;
    if (faults.dropAfterBytes !== undefined && (faults.dropTimes ?? 1) > 0) {
      limit = Math.min(limit, faults.dropAfterBytes);
      after = "drop";
      faults.dropTimes = (faults.dropTimes ?? 1) - 1;
      if (faults.dropTimes === 0) {
        faults.dropAfterBytes = undefined;
        faults.dropTimes = undefined;
      }
    } else if (faults.stallAfterBytes !== undefined) {
      limit = Math.min(limit, faults.stallAfterBytes);
      after = "stall";
    }
    // Sent in pieces, as a real transfer arrives.
    const piece = 64 * 1024;
    for (let at = 0; at < limit; at += piece) {
      const chunk = slice.subarray(at, Math.min(limit, at + piece));
      const ok = res.write(chunk);
      entry.bytesSent += chunk.length;
      cdnBytes += chunk.length;
      if (!ok) await new Promise<void>((resolve) => res.once("drain", resolve));
      if (res.destroyed) return;
    }
    if (after === "drop" && limit < slice.length) {
      await new Promise<void>((resolve) => res.write("", () => resolve()));
      res.socket?.destroy();
      return;
    }
    if (after === "stall" && limit < slice.length) return; // Silent until the client goes away.
    res.end();
  }

  return {
    url,
    cdnUrl,
    requests,
    faults,
    sha256: sha256Of,
    cdnBytesSent: () => cdnBytes,
    async close() {
      await Promise.all([stop(hub), stop(cdn)]);
    },
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
