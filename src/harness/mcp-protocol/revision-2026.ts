/*
 * What MCP's stateless revision, 2026-07-28, names on the wire (schema/2026-07-28/schema.ts,
 * basic/index, basic/transports/streamable-http), for tandem's server (harness/mcp-server) and its
 * client (harness/tools/mcp) alike. The installed SDK knows only the handshake revisions.
 */

/** The stateless revision: no initialize handshake, per-request `_meta`, `server/discover`. */
export const MODERN_PROTOCOL_VERSION = "2026-07-28";

/**
 * The handshake revisions (2024-10-07 to 2025-11-25), as the SDK speaks them, newest first: its
 * SUPPORTED_PROTOCOL_VERSIONS, written out so that this module does not load the SDK's types (about
 * 0.12 s) wherever it is imported; test/harness/mcp-protocol checks the two agree.
 */
export const HANDSHAKE_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
  "2024-10-07",
];

/**
 * The handshake revisions MCP published, newest first: the ones tandem names as supported (its
 * server's `supportedVersions` and version error, its client's messages). The SDK's list also holds
 * 2024-10-07, a date no specification was published under (an early draft's), which its handshake
 * would echo to an old client: tandem's server answers such an initialize with the latest published
 * (mcp-server/protocol-checks.ts), and its client still takes a server that answers with it.
 */
export const PUBLISHED_HANDSHAKE_VERSIONS: readonly string[] = HANDSHAKE_PROTOCOL_VERSIONS.filter(
  (version) => version !== "2024-10-07",
);

/** Header values do not match the body, or a required header is missing or malformed (HTTP 400). */
export const HEADER_MISMATCH = -32020;
/** The request needs a client capability it did not declare (HTTP 400; `data.requiredCapabilities`). */
export const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;
/** The request's protocol version is not one the server supports (HTTP 400; `data: {supported, requested}`). */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** The `_meta` keys every 2026-07-28 request carries (clientInfo is a SHOULD, the others required). */
export const META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
export const META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
export const META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
/** The `_meta` key a server names itself by in each result. */
export const META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";

/** Methods whose `Mcp-Name` header mirrors `params.name` (or `params.uri`). */
export const NAMED_METHODS: ReadonlySet<string> = new Set(["tools/call", "prompts/get", "resources/read"]);

const SENTINEL = /^=\?base64\?(.*)\?=$/;

/**
 * A header value as the sender meant it: plain, or `=?base64?…?=` decoded (UTF-8); undefined when the
 * sentinel holds no valid Base64.
 */
export function decodeHeaderValue(value: string): string | undefined {
  const encoded = SENTINEL.exec(value)?.[1];
  if (encoded === undefined) return value;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) return undefined;
  return Buffer.from(encoded, "base64").toString("utf8");
}

/**
 * A value as a header carries it: as it is when it is visible ASCII and spaces without space at
 * either end, else (or when it looks like the sentinel itself) `=?base64?…?=` of its UTF-8.
 */
export function encodeHeaderValue(value: string): string {
  const plain = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !SENTINEL.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/**
 * The standard headers of a 2026-07-28 request over Streamable HTTP, mirrored from its body:
 * `MCP-Protocol-Version`, `Mcp-Method` and, for a named method, `Mcp-Name` (encoded when unsafe).
 */
export function standardHeaders(method: string, params: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = { "mcp-protocol-version": MODERN_PROTOCOL_VERSION, "mcp-method": method };
  const name = typeof params?.name === "string" ? params.name : typeof params?.uri === "string" ? params.uri : undefined;
  if (NAMED_METHODS.has(method) && name !== undefined) headers["mcp-name"] = encodeHeaderValue(name);
  return headers;
}
