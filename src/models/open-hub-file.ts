import { type Dispatcher, request } from "undici";
import { GatewayError } from "../core/index.js";
import { type HubConnection, hubHeaders, resolveFileUrl, USER_AGENT } from "./hub-connection.js";
import { hubNetworkError } from "./hub-error.js";
import { ReceivedBody } from "./received-body.js";

const MAX_REDIRECTS = 10;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface OpenedHubFile {
  /** Where the answer came from (after redirects), and whether that is the hub itself or its CDN. */
  url: string;
  onHub: boolean;
  statusCode: number;
  headers: Dispatcher.ResponseData["headers"];
  /** Collected from the moment the response arrived. */
  body: ReceivedBody;
  /** From `X-Linked-Etag` (or the hub's own ETag), when it is a sha256. */
  sha256: string | undefined;
  /** From `X-Linked-Size`. */
  size: number | undefined;
}

/**
 * GETs a repo file from `offset` on (`Range: bytes=N-`), following the hub's redirects by hand so
 * that the hub's `X-Linked-Etag` / `X-Linked-Size` on the redirect can be read and the token is
 * sent to the hub only, never to the CDN it redirects to. The body of the final answer is being
 * collected when this returns.
 */
export async function openHubFile(
  hub: HubConnection,
  repo: string,
  file: string,
  offset: number,
  signal: AbortSignal | undefined,
  idleTimeoutMs: number,
): Promise<OpenedHubFile> {
  const hubOrigin = new URL(hub.endpoint).origin;
  let url = resolveFileUrl(hub, repo, file);
  let sha256: string | undefined;
  let size: number | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const onHub = new URL(url).origin === hubOrigin;
    const headers: Record<string, string> = onHub ? hubHeaders(hub) : { "user-agent": USER_AGENT };
    headers["accept-encoding"] = "identity";
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: "GET", headers, signal, headersTimeout: idleTimeoutMs, bodyTimeout: idleTimeoutMs });
    } catch (err) {
      throw hubNetworkError(err, url, signal);
    }
    const linkedEtag = normalizeEtag(header(res.headers, "x-linked-etag"));
    if (linkedEtag && SHA256_HEX.test(linkedEtag)) sha256 ??= linkedEtag;
    const etag = normalizeEtag(header(res.headers, "etag"));
    if (onHub && etag && SHA256_HEX.test(etag)) sha256 ??= etag;
    const linkedSize = Number(header(res.headers, "x-linked-size"));
    if (size === undefined && Number.isSafeInteger(linkedSize) && linkedSize >= 0) size = linkedSize;

    const location = header(res.headers, "location");
    if (res.statusCode >= 300 && res.statusCode < 400 && location) {
      discard(res);
      url = new URL(location, url).href;
      continue;
    }
    return { url, onHub, statusCode: res.statusCode, headers: res.headers, body: new ReceivedBody(res.body), sha256, size };
  }
  throw new GatewayError("upstream_error", `too many redirects fetching ${file} from ${repo}`);
}

/** huggingface_hub's `_normalize_etag`: drop a weak `W/` prefix and the quotes. */
function normalizeEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, "").replace(/"/g, "").trim().toLowerCase() || undefined;
}

export function header(headers: Dispatcher.ResponseData["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function parseContentRange(value: string | undefined): { start: number; total: number | undefined } | undefined {
  const match = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === "*" ? undefined : Number(match[3]) };
}

function discard(res: Dispatcher.ResponseData): void {
  res.body.on("error", () => {});
  res.body.destroy();
}
