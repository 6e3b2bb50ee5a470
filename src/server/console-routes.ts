import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ConsoleBundle } from "./console-bundle.js";

/** The URL prefix of the console's assets (the bundle's hashed script, stylesheet and icon). */
export const CONSOLE_ASSET_PREFIX = "/console/";

/**
 * The console's Content Security Policy: its own files only, no inline script or style, no other
 * origin to load from or send to, never framed (clickjacking), no <base> or form to redirect.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** Headers on every console answer: the page, its assets and the 503 page. */
const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  // No other site may load the console's files into its own page.
  "cross-origin-resource-policy": "same-origin",
};

/** A hashed asset never changes under its name. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tandem: the console is not built</title></head>
<body><h1>tandem is running, but its web console is not built</h1>
<p>The console's files (dist/web) were not found next to the server. In a checkout, run <code>npm run build</code>
(or <code>npm ci</code>, which builds), then restart tandem. The API is not affected.</p></body></html>
`;

/**
 * The plain answer of `/` to clients that do not ask for HTML (curl, health probes): Ollama's own,
 * to the byte. Ollama clients (editor plugins, desktop apps, Ollama UIs) detect a server by comparing
 * the root's text with `Ollama is running`, and tandem speaks Ollama's API.
 */
const PLAIN_ANSWER = "Ollama is running";

/**
 * Mounts the console: `GET /` serves its page to browsers (a request whose Accept names text/html)
 * and the old one-line text to everything else; `GET /console/<file>` serves the bundle's assets.
 * Neither needs a client key (they hold no data: the page asks for the key and sends it with its
 * own calls to /v1/status, /metrics and /v1/audit); the Host and Origin checks still apply.
 */
export function mountConsole(app: FastifyInstance, bundle: ConsoleBundle): void {
  app.get("/", async (request, reply) => {
    reply.header("vary", "Accept");
    if (!acceptsHtml(request)) return reply.type("text/plain; charset=utf-8").send(PLAIN_ANSWER);
    reply.headers(CONSOLE_HEADERS);
    if (!bundle.page) return reply.code(503).header("cache-control", "no-store").type("text/html; charset=utf-8").send(NOT_BUILT);
    // The page names the current hashed assets: asked again every time.
    return reply.header("cache-control", "no-cache").type("text/html; charset=utf-8").send(bundle.page);
  });

  app.get(`${CONSOLE_ASSET_PREFIX}:file`, async (request: FastifyRequest<{ Params: { file: string } }>, reply: FastifyReply) => {
    const file = bundle.assets.get(request.params.file);
    reply.headers(CONSOLE_HEADERS);
    if (!file) {
      return reply
        .code(404)
        .header("cache-control", "no-store")
        .type("text/plain; charset=utf-8")
        .send("Not found: the console has no such file (a page from an older build? reload it)\n");
    }
    return reply.header("cache-control", IMMUTABLE).type(file.contentType).send(file.body);
  });
}

/** Whether a request may go without a client key: the console's page and assets (GET or HEAD). */
export function isPublicConsoleRequest(method: string, url: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  const path = url.split("?", 1)[0] ?? "";
  return path === "/" || (path.startsWith(CONSOLE_ASSET_PREFIX) && !path.includes("/", CONSOLE_ASSET_PREFIX.length));
}

function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return (
    typeof accept === "string" &&
    /(^|[\s,])text\/html\s*(;|,|$)/i.test(accept) &&
    !/text\/html\s*;\s*q=0(\.0*)?\s*(,|$)/i.test(accept)
  );
}
