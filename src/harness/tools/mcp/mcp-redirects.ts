/** A server redirected a request to another origin (or too many times); nothing was sent there. */
export class McpRedirectRefused extends Error {
  override readonly name = "McpRedirectRefused";
}

/** One HTTP exchange that never follows a redirect itself (`redirect: "manual"`, always). */
export type FetchOnce = (url: URL, init: RequestInit) => Promise<Response>;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * Sends a request to an MCP server, following its redirects only within the origin of `url`.
 * Every exchange goes out with `redirect: "manual"`, so the HTTP client never follows one by itself:
 * a redirect's target is checked here before anything (the body, the tool's headers) is sent to it,
 * and one to another origin is refused, saying so, with nothing sent there. A caller that asks for
 * `redirect: "manual"` itself (the MCP SDK's transports, which follow within the origin on their
 * own) gets each answer as it came. A redirect that would turn a request with a body into a GET
 * (301, 302, 303), or whose body was a stream that cannot be sent again, is returned as it came, for
 * the caller to report.
 */
export async function fetchWithinOrigin(fetchOnce: FetchOnce, url: URL, init: RequestInit = {}): Promise<Response> {
  const wanted = init.redirect ?? "follow";
  // Checked against the URL first asked: a chain of redirects may not leave its origin either.
  const origin = url.origin;
  let current = url;
  for (let followed = 0; ; followed++) {
    const response = await fetchOnce(current, { ...init, redirect: "manual" });
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get("location") : null;
    if (wanted === "manual" || location === null) return response;
    const target = parsedLocation(location, current);
    if (wanted === "error" || target === undefined) {
      await response.body?.cancel().catch(() => {});
      throw new McpRedirectRefused(`the server answered HTTP ${response.status} with a redirect that was not followed`);
    }
    const addsUserinfo = target.username !== url.username || target.password !== url.password;
    if (!withinOrigin(url, target) || addsUserinfo) {
      await response.body?.cancel().catch(() => {});
      throw new McpRedirectRefused(
        `the server redirects to ${shown(target)}, outside its origin ${origin}; tandem follows an MCP server's redirects only within its origin, so nothing was sent there`,
      );
    }
    const method = (init.method ?? "GET").toUpperCase();
    const keepsMethod = response.status === 307 || response.status === 308 || method === "GET" || method === "HEAD";
    const resendable = init.body === undefined || init.body === null || typeof init.body === "string";
    if (!keepsMethod || !resendable) return response;
    await response.body?.cancel().catch(() => {});
    if (followed === MAX_REDIRECTS) {
      throw new McpRedirectRefused(`the server redirected more than ${MAX_REDIRECTS} times; not followed further`);
    }
    current = target;
  }
}

/**
 * Whether `to` has the scheme, host and port of `from`, or is its https form with both on their
 * default ports (the upgrade the MCP SDK's transports also follow: the same host, only safer).
 */
function withinOrigin(from: URL, to: URL): boolean {
  if (to.origin === from.origin) return true;
  return (
    from.hostname === to.hostname && from.protocol === "http:" && from.port === "" && to.protocol === "https:" && to.port === ""
  );
}

function parsedLocation(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

/** A redirect's target as an error may name it: without userinfo, query or fragment (they may carry secrets). */
function shown(target: URL): string {
  const copy = new URL(target.href);
  copy.username = copy.password = copy.search = copy.hash = "";
  return copy.href;
}
