import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type HostedToolInfo, redactSecrets } from "../../../core/index.js";
import { VERSION } from "../../../version.js";
import { McpConnectTimeout, mcpErrorReason } from "./mcp-error-text.js";
import { mcpFetch } from "./mcp-http-fetch.js";
import type { McpLog } from "./mcp-log.js";

/** Where an MCP server is, with its secrets already resolved. */
export type McpEndpoint =
  | { transport: "http"; url: string; headers: Record<string, string> }
  | { transport: "stdio"; command: string; args: string[]; env: Record<string, string>; cwd?: string };

export interface McpConnectOptions {
  /** How the server is named in logs: its label. */
  label: string;
  /** Bounds the whole connect (a transport's start and MCP's initialize). */
  timeoutMs: number;
  log: McpLog;
  /** Secret values of the endpoint, cleaned out of anything logged. */
  secrets: readonly string[];
  /** An HTTP server's answers are read to at most this many bytes each (`limits.maxAnswerBytes`). */
  maxAnswerBytes: number;
  /** Why an HTTP server may not be reached at an address (see mcpFetch), or undefined. Default: any address. */
  addressRefusal?: (address: string) => string | undefined;
}

/** A stdio server's stderr lines logged per connection: a chatty or looping server cannot flood the log. */
const MAX_STDERR_LINES = 500;
/** The longest stderr line logged, in characters. */
const MAX_STDERR_LINE = 2000;
/** How long closing waits for a Streamable HTTP server to end the session before the client lets go. */
const TERMINATE_SESSION_MS = 1000;

/**
 * One connected MCP client, shared by every request that uses its server. It is `gone` once its
 * transport closed or erred (a crashed child, a restarted server that forgot the session, a broken
 * event stream): the host then drops it and connects afresh on the next use, while the requests
 * still running on it finish or fail on their own.
 */
export class McpConnection {
  readonly client: Client;
  readonly transport: Transport;
  /** The server's label, for logs. */
  readonly label: string;
  /** The secret values of its endpoint (header values, env secrets), cleaned out of its error text. */
  readonly secrets: readonly string[];
  /** `streamable-http`, `sse` (the legacy transport, after Streamable HTTP was refused) or `stdio`. */
  readonly kind: "streamable-http" | "sse" | "stdio";
  /** The tools listed, until the server says they changed (or this connection ends). */
  tools: Promise<HostedToolInfo[]> | undefined;
  /** How many tools the last listing found (for status). */
  toolCount: number | undefined;
  /** Why tandem closed its transport, when it did (an answer past `maxAnswerBytes`): what failed on it since failed for this. */
  closedFor: (() => Error | undefined) | undefined;
  #gone = false;
  #closing: Promise<void> | undefined;
  readonly #onGone: Array<() => void> = [];
  #busy = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleMs: number | undefined;
  readonly #release: (() => Promise<void>) | undefined;

  /** `release` frees what the transport used beside itself (an HTTP server's connection pool), once closed. */
  constructor(
    client: Client,
    transport: Transport,
    kind: McpConnection["kind"],
    label: string,
    secrets: readonly string[],
    release?: () => Promise<void>,
  ) {
    this.client = client;
    this.transport = transport;
    this.kind = kind;
    this.label = label;
    this.secrets = secrets;
    this.#release = release;
  }

  /** Whether the connection can no longer be trusted with a new request. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Runs once, when the connection is found gone (its transport closed or erred) or closed. */
  onGone(fn: () => void): void {
    if (this.#gone) fn();
    else this.#onGone.push(fn);
  }

  /** The transport closed or erred: no new request goes to this connection. */
  markGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#clearIdle();
    for (const fn of this.#onGone.splice(0)) fn();
    // Let the requests still on it end by themselves; the last one closes it (see release()).
    if (this.#busy === 0) void this.close();
  }

  /** Closes the connection after `ms` without a request (request-named servers; configured ones stay). */
  closeWhenIdle(ms: number): void {
    this.#idleMs = ms;
    if (this.#busy === 0) this.#armIdle();
  }

  /** A request starts using the connection. */
  acquire(): void {
    this.#busy++;
    this.#clearIdle();
  }

  /** A request is done with it. */
  release(): void {
    this.#busy--;
    if (this.#busy > 0) return;
    if (this.#gone) void this.close();
    else this.#armIdle();
  }

  /** Ends the session and the transport (a stdio child is ended by the SDK: stdin closed, then SIGTERM, then SIGKILL). Idempotent. */
  close(): Promise<void> {
    // Started a microtask later, so that what it calls back (markGone, onGone) finds it under way.
    this.#closing ??= Promise.resolve().then(() => this.#close());
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.markGone();
    if (this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId !== undefined) {
      // Polite, not needed: a server that does not answer soon is simply left.
      await withTimeout(this.transport.terminateSession(), TERMINATE_SESSION_MS).catch(() => {});
    }
    await this.client.close().catch(() => {});
    await this.#release?.().catch(() => {});
  }

  #armIdle(): void {
    if (this.#idleMs === undefined || this.#gone) return;
    this.#clearIdle();
    this.#idleTimer = setTimeout(() => void this.close(), this.#idleMs);
    this.#idleTimer.unref();
  }

  #clearIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/**
 * Connects to an MCP server. A URL gets Streamable HTTP first and, when that is refused with a 4xx
 * other than 401/403 (a server of the 2024-11-05 protocol answers its POST with 404 or 405), the
 * legacy SSE transport, as the SDK's docs recommend for backwards compatibility. A command is
 * started as a child speaking MCP over stdio. Throws the connect's failure (or McpConnectTimeout).
 */
export async function openMcpConnection(endpoint: McpEndpoint, options: McpConnectOptions): Promise<McpConnection> {
  if (endpoint.transport === "stdio") {
    const transport = new StdioClientTransport({
      command: endpoint.command,
      args: endpoint.args,
      env: endpoint.env,
      ...(endpoint.cwd !== undefined ? { cwd: endpoint.cwd } : {}),
      stderr: "pipe",
    });
    logStderr(transport, options);
    return connect(transport, "stdio", options);
  }
  const url = new URL(endpoint.url);
  const requestInit = { headers: endpoint.headers };
  // An answer cut at maxAnswerBytes closes the transport, so that what waits on it (an event stream's
  // request would wait for its timeout) fails now, and says why.
  const cut: { error?: Error; transport?: Transport } = {};
  // Bounded answers, and only the addresses the host allows (a request-named server's), on every request of the transport.
  const http = mcpFetch({
    maxAnswerBytes: options.maxAnswerBytes,
    ...(options.addressRefusal !== undefined && { addressRefusal: options.addressRefusal }),
    onAnswerTooLarge: (error) => {
      cut.error ??= error;
      void cut.transport?.close();
    },
  });
  const transportOptions = { requestInit, fetch: http.fetch };
  const open = async (transport: Transport, kind: McpConnection["kind"]): Promise<McpConnection> => {
    cut.transport = transport;
    try {
      const connection = await connect(transport, kind, options, http.close);
      connection.closedFor = () => cut.error;
      return connection;
    } catch (err) {
      throw cut.error ?? err;
    }
  };
  try {
    return await open(new StreamableHTTPClientTransport(url, transportOptions), "streamable-http");
  } catch (err) {
    const legacy = err instanceof StreamableHTTPError && err.code !== undefined && err.code >= 400 && err.code < 500;
    if (!legacy || err.code === 401 || err.code === 403) {
      await http.close().catch(() => {});
      throw err;
    }
    options.log.debug(
      { server: options.label, reason: mcpErrorReason(err, options.secrets) },
      "mcp: Streamable HTTP refused, trying the legacy SSE transport",
    );
    try {
      return await open(new SSEClientTransport(url, transportOptions), "sse");
    } catch (sseErr) {
      await http.close().catch(() => {});
      // The Streamable HTTP refusal is the more telling one when the server speaks neither.
      throw new AggregateError(
        [err, sseErr],
        `Streamable HTTP: ${mcpErrorReason(err, options.secrets)}; legacy SSE: ${mcpErrorReason(sseErr, options.secrets)}`,
      );
    }
  }
}

async function connect(
  transport: Transport,
  kind: McpConnection["kind"],
  options: McpConnectOptions,
  release?: () => Promise<void>,
): Promise<McpConnection> {
  let connection: McpConnection | undefined;
  const client = new Client(
    { name: "tandem", version: VERSION },
    {
      capabilities: {},
      listChanged: {
        // Not refreshed here: the SDK's refresh reads one page, the host reads them all on next use.
        tools: {
          autoRefresh: false,
          debounceMs: 0,
          onChanged: () => {
            if (connection) connection.tools = undefined;
          },
        },
      },
    },
  );
  connection = new McpConnection(client, transport, kind, options.label, options.secrets, release);
  try {
    await withTimeout(client.connect(transport, { timeout: options.timeoutMs }), options.timeoutMs);
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  // Only now: during the connect, a transport error is the connect's own failure, which it reports.
  const conn = connection;
  client.onclose = () => conn.markGone();
  client.onerror = (err) => {
    options.log.debug(
      { server: options.label, reason: mcpErrorReason(err, options.secrets) },
      "mcp: transport error; reconnecting on next use",
    );
    conn.markGone();
  };
  options.log.debug({ server: options.label, transport: kind }, "mcp: connected");
  return connection;
}

/** A stdio server's stderr at debug, line by line and bounded, cleaned of its env secrets. */
function logStderr(transport: StdioClientTransport, options: McpConnectOptions): void {
  const stream = transport.stderr;
  if (!stream) return;
  let lines = 0;
  // With `stderr: "pipe"` the SDK hands out a PassThrough: a Readable, though typed as a Stream.
  createInterface({ input: stream as Readable, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
    if (!line.trim()) return;
    lines++;
    if (lines > MAX_STDERR_LINES) {
      if (lines === MAX_STDERR_LINES + 1) options.log.debug({ server: options.label }, "mcp: further stderr lines not logged");
      return;
    }
    options.log.debug(
      { server: options.label, stderr: redactSecrets(line, options.secrets).slice(0, MAX_STDERR_LINE) },
      "mcp: server stderr",
    );
  });
}

/** The promise, or McpConnectTimeout after `ms` (the promise is left to settle on its own; its failure is handled). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new McpConnectTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
