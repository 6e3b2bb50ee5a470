import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, ResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { type HostedToolInfo, redactSecrets } from "../../../core/index.js";
import { VERSION } from "../../../version.js";
import { HEADER_MISMATCH, MODERN_PROTOCOL_VERSION } from "../../mcp-protocol/index.js";
import type { McpToolResult } from "./mcp-content-text.js";
import { McpConnectTimeout, mcpErrorReason } from "./mcp-error-text.js";
import { mcpFetch } from "./mcp-http-fetch.js";
import { ignoreLateAnswers } from "./mcp-late-answers.js";
import type { McpLog } from "./mcp-log.js";
import { discoverEra, McpModernClient } from "./mcp-modern-client.js";
import { type ParamHeader, paramHeaders, paramHeaderValues } from "./mcp-param-headers.js";
import { markServerAnswer } from "./mcp-sdk-errors.js";
import { readLinesLinearly } from "./mcp-stdio-line-reader.js";

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
 * What the host asks of a connected server, whichever protocol era it speaks: the SDK's Client after
 * the initialize handshake (2024-11-05 to 2025-11-25, any transport), or tandem's client of the
 * stateless 2026-07-28 over Streamable HTTP.
 */
export interface McpSession {
  /** One page of `tools/list` (the result as the server gave it: `tools`, `nextCursor`, 2026-07-28's `ttlMs`). */
  listTools(cursor: string | undefined, timeoutMs: number): Promise<Record<string, unknown>>;
  /** One `tools/call`; the signal's abort cancels it in the server. */
  callTool(
    name: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<McpToolResult>;
  /** Ends it (a handshake session is ended politely, then its transport closed). */
  close(): Promise<void>;
}

/**
 * One connected MCP client, shared by every request that uses its server. It is `gone` once its
 * transport closed or erred (a crashed child, a restarted server that forgot the session, a broken
 * event stream): the host then drops it and connects afresh on the next use, while the requests
 * still running on it finish or fail on their own.
 */
export class McpConnection {
  readonly session: McpSession;
  /** The server's label, for logs. */
  readonly label: string;
  /** The secret values of its endpoint (header values, env secrets), cleaned out of its error text. */
  readonly secrets: readonly string[];
  /** `streamable-http`, `sse` (the legacy transport, after Streamable HTTP was refused) or `stdio`. */
  readonly kind: "streamable-http" | "sse" | "stdio";
  /** The protocol spoken: 2026-07-28 (stateless, per-request `_meta`) or a handshake revision. */
  readonly era: typeof MODERN_PROTOCOL_VERSION | "handshake";
  /** The tools listed, until the server says they changed (or this connection ends). */
  tools: Promise<HostedToolInfo[]> | undefined;
  /** When the tools listed go stale (2026-07-28's `ttlMs`: its servers send no change notification), if they do. */
  toolsStaleAt: number | undefined;
  /** How many tools the last listing found (for status). */
  toolCount: number | undefined;
  /** Why tandem closed its transport, when it did (an answer past `maxAnswerBytes`, a stdio line past 10 MiB): what failed on it since failed for this. */
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
    session: McpSession,
    kind: McpConnection["kind"],
    era: McpConnection["era"],
    label: string,
    secrets: readonly string[],
    release?: () => Promise<void>,
  ) {
    this.session = session;
    this.kind = kind;
    this.era = era;
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
    await this.session.close().catch(() => {});
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
 * Connects to an MCP server. A URL is probed first with 2026-07-28's `server/discover` (that
 * revision's backward compatibility, see discoverEra): a server that lists 2026-07-28 is spoken to
 * in it, with no handshake; any other gets the SDK's initialize over Streamable HTTP and, when that
 * is refused with a 4xx other than 401/403 (a server of the 2024-11-05 protocol answers its POST
 * with 404 or 405), the legacy SSE transport, as the SDK's docs recommend for backwards
 * compatibility. The probe and the handshake share the connect's timeout. A command is started as a
 * child speaking MCP over stdio. Throws the connect's failure (or McpConnectTimeout).
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
    // A long line without a newline is read in linear time, not the SDK's quadratic one.
    const reader = readLinesLinearly(transport);
    logStderr(transport, options);
    // A line past the limit ends the server: that, not its closed output, is why what waited on it failed.
    try {
      const connection = await connect(transport, "stdio", options);
      connection.closedFor = () => reader.tooLong;
      return connection;
    } catch (err) {
      throw reader.tooLong ?? err;
    }
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
      // A 2026-07-28 request reads its own answer and fails with this; only a transport's is closed.
      if (cut.transport === undefined) return;
      cut.error ??= error;
      void cut.transport.close();
    },
  });
  const transportOptions = { requestInit, fetch: http.fetch };
  const deadline = Date.now() + options.timeoutMs;
  const modern = new McpModernClient({
    url,
    headers: endpoint.headers,
    fetch: http.fetch,
    clientInfo: { name: "tandem", version: VERSION },
  });
  let era: Awaited<ReturnType<typeof discoverEra>>;
  try {
    era = await discoverEra(modern, options.timeoutMs);
  } catch (err) {
    await http.close().catch(() => {});
    throw err;
  }
  if (era.era === "modern") {
    const connection = new McpConnection(
      modernSession(modern, options),
      "streamable-http",
      MODERN_PROTOCOL_VERSION,
      options.label,
      options.secrets,
      http.close,
    );
    options.log.debug(
      { server: options.label, transport: "streamable-http", protocol: MODERN_PROTOCOL_VERSION },
      "mcp: connected",
    );
    return connection;
  }
  options.log.debug(
    { server: options.label, reason: redactSecrets(era.why, options.secrets) },
    "mcp: not a 2026-07-28 server; initializing",
  );
  const open = async (transport: Transport, kind: McpConnection["kind"]): Promise<McpConnection> => {
    cut.transport = transport;
    const timeoutMs = deadline - Date.now();
    if (timeoutMs <= 0) throw new McpConnectTimeout(`no answer within ${options.timeoutMs} ms`);
    try {
      const connection = await connect(transport, kind, { ...options, timeoutMs }, http.close);
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
  connection = new McpConnection(handshakeSession(client, transport), kind, "handshake", options.label, options.secrets, release);
  try {
    await withTimeout(client.connect(transport, { timeout: options.timeoutMs }), options.timeoutMs);
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  // An answer to no request awaited (one cancelled, or a server's stray or duplicate answer) is
  // ignored, not a transport error.
  ignoreLateAnswers(transport, (id, why) =>
    options.log.debug(
      { server: options.label, id },
      why === "cancelled"
        ? "mcp: a late answer to a cancelled request, ignored"
        : "mcp: an answer to no pending request, ignored",
    ),
  );
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

/** The SDK's Client, after its initialize handshake, as a session. */
function handshakeSession(client: Client, transport: Transport): McpSession {
  // The SDK fails what waits with its ConnectionClosed only once it has let go of the transport: a
  // -32000 while it still holds it is the server's answer (which may use that code too).
  const answered = (err: unknown): never => {
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed && client.transport !== undefined) {
      throw markServerAnswer(err);
    }
    throw err;
  };
  return {
    listTools: (cursor, timeoutMs) =>
      client
        .request({ method: "tools/list", ...(cursor !== undefined && { params: { cursor } }) }, ResultSchema, {
          timeout: timeoutMs,
        })
        .catch(answered),
    callTool: (name, args, { signal, timeoutMs }) =>
      (client.callTool({ name, arguments: args }, undefined, { signal, timeout: timeoutMs }) as Promise<McpToolResult>).catch(
        answered,
      ),
    close: async () => {
      if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
        // Polite, not needed: a server that does not answer soon is simply left.
        await withTimeout(transport.terminateSession(), TERMINATE_SESSION_MS).catch(() => {});
      }
      await client.close();
    },
  };
}

/**
 * tandem's client of 2026-07-28 as a session: each request a POST of its own, nothing to end but those
 * in flight. It keeps each listed tool's `x-mcp-header` marks to send a call's `Mcp-Param-*` headers,
 * and leaves out of the list (logged) a tool whose marks break the rules, as the spec asks.
 */
function modernSession(client: McpModernClient, options: McpConnectOptions): McpSession {
  const marks = new Map<string, ParamHeader[]>();
  const listPage = async (cursor: string | undefined, timeoutMs: number) => {
    const result = await client.request("tools/list", cursor === undefined ? {} : { cursor }, { timeoutMs });
    if (!Array.isArray(result.tools)) return result;
    const tools = result.tools.filter((tool: unknown) => {
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== "string") return true;
      const headers = paramHeaders((tool as { inputSchema?: unknown }).inputSchema);
      if (!Array.isArray(headers)) {
        options.log.warn({ server: options.label, tool: name.slice(0, 100), reason: headers.invalid }, "mcp: a tool is left out");
        marks.delete(name);
        return false;
      }
      marks.set(name, headers);
      return true;
    });
    return { ...result, tools };
  };
  const call = (name: string, args: Record<string, unknown>, signal: AbortSignal, timeoutMs: number) =>
    client.request(
      "tools/call",
      { name, arguments: args },
      {
        signal,
        timeoutMs,
        headers: paramHeaderValues(marks.get(name) ?? [], args),
      },
    ) as Promise<McpToolResult>;
  return {
    listTools: listPage,
    callTool: async (name, args, { signal, timeoutMs }) => {
      try {
        return await call(name, args, signal, timeoutMs);
      } catch (err) {
        // A refusal of the headers (not run): the tool's marks are unknown here or changed. The spec's
        // remedy: list the tools again, then send the call once more with the headers they ask for.
        if (!(err instanceof McpError) || err.code !== HEADER_MISMATCH) throw err;
        const before = JSON.stringify(marks.get(name) ?? []);
        let cursor: string | undefined;
        for (let page = 0; page < MAX_MARK_PAGES; page++) {
          const result = await listPage(cursor, timeoutMs);
          cursor = typeof result.nextCursor === "string" ? result.nextCursor : undefined;
          if (cursor === undefined) break;
        }
        if (JSON.stringify(marks.get(name) ?? []) === before) throw err;
        return call(name, args, signal, timeoutMs);
      }
    },
    close: async () => client.close(),
  };
}

/** Pages of tools/list read at most to learn a tool's marks again (as the host's MAX_TOOL_PAGES). */
const MAX_MARK_PAGES = 20;

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
