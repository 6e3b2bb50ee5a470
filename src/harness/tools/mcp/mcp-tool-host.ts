import { createHash } from "node:crypto";
import { expandHome, type McpConfig } from "../../../config/index.js";
import {
  type HostedCallFailure,
  type HostedToolInfo,
  type HostedToolOutcome,
  MCP_CALL_CODES,
  type McpServerRef,
  objectSchema,
  type ToolHost,
} from "../../../core/index.js";
import type { KeySources } from "../../../secrets/index.js";
import { MODERN_PROTOCOL_VERSION } from "../../mcp-protocol/index.js";
import { SandboxError } from "../../sandbox/index.js";
import { requestServerAddressRefusal } from "./mcp-address-policy.js";
import type { McpConnection, McpEndpoint } from "./mcp-connection.js";
import { capUtf8, type McpToolResult, toolResultText } from "./mcp-content-text.js";
import { errnoCode, isRequestTimeout, mcpCallFailure, mcpErrorReason } from "./mcp-error-text.js";
import type { McpLog } from "./mcp-log.js";
import { McpSandbox, type McpSandboxStatus, type SandboxedServer } from "./mcp-sandbox.js";
import {
  isConnectionClosed,
  isHttpTransportError,
  isMcpError,
  isStreamableHttpError,
  loadMcpSdkErrors,
} from "./mcp-sdk-errors.js";
import { resolveSecretValues, SecretValueError } from "./mcp-secret-values.js";

export interface McpToolHostOptions {
  log: McpLog;
  /** Where `env:NAME` references in headers and env are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where `keychain:` and `store:` references are read (the server passes its open store). */
  keySources?: KeySources;
  /** A server a request named by URL is disconnected after this long unused. Default 300000 (5 minutes). */
  requestServerIdleMs?: number;
  /**
   * A stdio server that exited (or could not start) is started again on its next use, but not
   * sooner than this after its last start: a server that crashes at once is not respawned in a loop.
   * Default 5000.
   */
  restartIntervalMs?: number;
  /** tandem's data dir (store, keys, logs): out of every sandboxed server's reach. */
  dataDir?: string;
  /** What a sandbox's relative paths are relative to. Default process.cwd() (as a stdio server's `cwd`). */
  cwd?: string;
  /** The OS, for the sandbox's check. Default process.platform (tests simulate another). */
  platform?: NodeJS.Platform;
  /** An HTTP server's answers are read to at most this many bytes each (`limits.maxAnswerBytes`). Default 33554432. */
  maxAnswerBytes?: number;
  /**
   * Whether every client of tandem is on this machine (it is bound to a loopback address and answers
   * no other host name): then a request may name a server on this machine or a private network by
   * URL; otherwise only public addresses (see requestServerAddressRefusal). Default true.
   */
  clientsAreLocal?: boolean;
}

/** Pages of `tools/list` read at most: a server whose cursor never ends cannot hold a request. */
const MAX_TOOL_PAGES = 20;
/** Tools read at most from one server: more would not fit a model's tool list anyway. */
const MAX_TOOLS = 1000;

/** A configured server as /v1/status shows it. */
export interface McpServerStatus {
  label: string;
  transport: "http" | "stdio";
  /** Whether a connection is open now (servers are connected on first use). */
  connected: boolean;
  /** Tools the open connection has listed, once it has. */
  tools?: number;
  /** The last failure of a list or call on this server (connect, refused key, timeout, a tool's own error not included), and when; cleared by a success. */
  lastError?: { message: string; at: string };
  /** A stdio server's sandbox: off, confined, or failed (then it is not started) with the reason. */
  sandbox?: McpSandboxStatus;
}

/** A server as a request or the config names it, before it is connected. */
interface Target {
  /** Connections are shared by this: the configured label, or the URL with its headers. */
  key: string;
  /** How messages name it: the request's `server_label`. */
  label: string;
  /** Whether a request named it by URL (closed when idle) rather than the config by label (kept). */
  requestNamed: boolean;
  /** Its endpoint with secrets resolved; read when a connection is opened, not per request. */
  resolve(): Promise<{ endpoint: McpEndpoint; secrets: string[] }>;
}

/** A connection, or the connect under way that concurrent requests share. */
interface Slot {
  connection: Promise<McpConnection>;
  /** The connection, once made (for status). */
  ready?: McpConnection;
}

/** What a failed connect says, worded, and which kind of failure it was. */
class ConnectFailure extends Error {
  override readonly name = "ConnectFailure";
  /** A failure's kind without its text (the host words the message). */
  readonly kind: { kind: "protocol"; code: number } | { kind: "http"; status: number };
  constructor(message: string, kind: ConnectFailure["kind"] = { kind: "protocol", code: MCP_CALL_CODES.connectionClosed }) {
    super(message);
    this.kind = kind;
  }
}

/** A failure's kind with `message` as its text. */
function worded(kind: ConnectFailure["kind"], message: string): HostedCallFailure {
  return { ...kind, message };
}

/** The kind of a failure, without its text (for a ConnectFailure that words it later). */
function kindOf(err: unknown): ConnectFailure["kind"] {
  const failure = mcpCallFailure(err, "");
  return failure.kind === "http"
    ? { kind: "http", status: failure.status }
    : { kind: "protocol", code: "code" in failure ? failure.code : MCP_CALL_CODES.connectionClosed };
}

/**
 * The `ToolHost` over MCP servers: the ones configured under `mcp.servers` (by label) and the ones a
 * request names by URL (unless `mcp.allowRequestServers` is false). One SDK client per server,
 * connected on first use and shared by every request after it; a connection whose transport closed or
 * erred is dropped and made again on the next use, and a request that finds its reused connection
 * lost (a restarted server that forgot the session) is retried once on a fresh one when it cannot
 * have run yet. A server's failure comes back as `{error}` text; only the caller's abort throws.
 */
export class McpToolHost implements ToolHost {
  readonly #config: McpConfig;
  readonly #log: McpLog;
  readonly #env: NodeJS.ProcessEnv;
  readonly #sources: KeySources;
  readonly #idleMs: number;
  readonly #restartIntervalMs: number;
  readonly #maxAnswerBytes: number;
  readonly #clientsAreLocal: boolean;
  readonly #slots = new Map<string, Slot>();
  /** Every connection opened and not yet closed, for close(). */
  readonly #open = new Set<McpConnection>();
  /** stdio servers: when each was last started, and whether that start has since ended (exited or failed). */
  readonly #starts = new Map<string, { at: number; ended?: string }>();
  #closed = false;
  /** The last failure per configured label, until a request on it succeeds. */
  readonly #lastError = new Map<string, { message: string; at: string }>();
  readonly #sandbox: McpSandbox;

  constructor(config: McpConfig, options: McpToolHostOptions) {
    this.#config = config;
    this.#log = options.log;
    this.#env = options.env ?? process.env;
    this.#sources = options.keySources ?? {};
    this.#idleMs = options.requestServerIdleMs ?? 5 * 60_000;
    this.#restartIntervalMs = options.restartIntervalMs ?? 5000;
    this.#maxAnswerBytes = options.maxAnswerBytes ?? 32 * 1024 * 1024;
    this.#clientsAreLocal = options.clientsAreLocal ?? true;
    this.#sandbox = new McpSandbox({
      env: this.#env,
      log: this.#log,
      recheckMs: this.#restartIntervalMs,
      ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.platform !== undefined && { platform: options.platform }),
    });
    const sandboxed = Object.entries(config.servers).flatMap(
      ([label, server]): Array<[string, SandboxedServer]> =>
        server.command !== undefined && server.sandbox !== undefined ? [[label, { ...server, sandbox: server.sandbox }]] : [],
    );
    // At start, so that status says what would fail before the first request does.
    if (sandboxed.length > 0) this.#sandbox.check(sandboxed);
  }

  configured(label: string): boolean {
    return Object.hasOwn(this.#config.servers, label);
  }

  /** How many connections are open now (for status pages and tests). */
  get openConnections(): number {
    return this.#open.size;
  }

  /** The configured servers, for /v1/status: connected or not, their tool count, their last failure. */
  status(): { servers: McpServerStatus[]; requestConnections: number } {
    const servers: McpServerStatus[] = [];
    let configuredOpen = 0;
    for (const [label, config] of Object.entries(this.#config.servers)) {
      const connection = this.#slots.get(`label:${label}`)?.ready;
      if (connection !== undefined) configuredOpen++;
      const tools = connection?.toolCount;
      const lastError = this.#lastError.get(label);
      servers.push({
        label,
        transport: config.url !== undefined ? "http" : "stdio",
        connected: connection !== undefined,
        ...(tools !== undefined && { tools }),
        ...(lastError !== undefined && { lastError }),
        ...(config.command !== undefined && {
          sandbox: this.#sandbox.status(label, config.sandbox),
        }),
      });
    }
    return { servers, requestConnections: Math.max(0, this.#open.size - configuredOpen) };
  }

  async listTools(server: McpServerRef, signal: AbortSignal): Promise<{ tools: HostedToolInfo[] } | { error: string }> {
    return this.#run(
      server,
      signal,
      true,
      async (connection) => ({ tools: await this.#tools(connection, signal) }),
      (reason, err) =>
        isRequestTimeout(err)
          ? `listing the tools of MCP server '${server.label}' timed out after ${this.#config.listTimeoutMs} ms (mcp.listTimeoutMs)`
          : `listing the tools of MCP server '${server.label}' failed: ${reason}`,
    );
  }

  async callTool(
    server: McpServerRef,
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<HostedToolOutcome> {
    return this.#run(
      server,
      signal,
      false,
      async (connection): Promise<HostedToolOutcome> => {
        const result: McpToolResult = await connection.session.callTool(name, args, {
          signal,
          timeoutMs: this.#config.callTimeoutMs,
        });
        const text = capUtf8(toolResultText(result), this.#config.maxOutputBytes);
        if (result.isError === true) {
          return {
            error: text || `tool '${name}' of MCP server '${server.label}' failed without saying why`,
            failure: { kind: "tool", content: errorContent(result, text, this.#config.maxOutputBytes) },
          };
        }
        return { output: text };
      },
      (reason, err) =>
        isRequestTimeout(err)
          ? `tool '${name}' of MCP server '${server.label}' timed out after ${this.#config.callTimeoutMs} ms (mcp.callTimeoutMs)`
          : `tool '${name}' of MCP server '${server.label}' failed: ${reason}`,
    );
  }

  /** Closes every connection and ends every stdio child. Idempotent; for the server's shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = [...this.#slots.values()].map((slot) => slot.connection.then((c) => c.close()).catch(() => {}));
    this.#slots.clear();
    await Promise.all([...pending, ...[...this.#open].map((c) => c.close())]);
  }

  /**
   * Runs `use` on the server's connection, connecting first if need be. A reused connection found
   * lost is replaced once when `use` cannot have reached the server (or may be repeated: `idempotent`).
   */
  async #run<T>(
    server: McpServerRef,
    signal: AbortSignal,
    idempotent: boolean,
    use: (connection: McpConnection) => Promise<T>,
    failed: (reason: string, err: unknown) => string,
  ): Promise<T | { error: string; failure: HostedCallFailure }> {
    throwIfAborted(signal);
    const target = this.#target(server);
    if ("error" in target)
      return { error: target.error, failure: { kind: "protocol", code: MCP_CALL_CODES.notSent, message: target.error } };
    for (let attempt = 0; ; attempt++) {
      let opened: { connection: McpConnection; fresh: boolean };
      try {
        opened = await this.#connection(target, signal);
      } catch (err) {
        throwIfAborted(signal);
        if (err instanceof ConnectFailure) return this.#failure(target, err.message, err.kind);
        return this.#failure(target, `cannot connect to MCP server '${server.label}': ${mcpErrorReason(err)}`, kindOf(err));
      }
      const { connection, fresh } = opened;
      connection.acquire();
      try {
        const answer = await use(connection);
        // An answer (a tool's own error too) says the server is well.
        if (!target.requestNamed) this.#lastError.delete(target.label);
        return answer;
      } catch (err) {
        throwIfAborted(signal);
        if (isTransportFailure(err)) connection.markGone();
        if (!fresh && attempt === 0 && mayRetry(err, idempotent)) {
          this.#log.debug(
            { server: server.label, reason: mcpErrorReason(err, connection.secrets) },
            "mcp: connection lost; retrying on a new one",
          );
          continue;
        }
        // tandem closed the connection (not the server): a link lost, whatever the request then saw.
        const kind = connection.closedFor?.() !== undefined ? undefined : kindOf(err);
        return this.#failure(target, failed(this.#reason(err, connection), err), kind);
      } finally {
        connection.release();
      }
    }
  }

  /** A failure to reach or use the server, as its error text and kind; a configured server's is kept for /v1/status. */
  #failure(
    target: Target,
    message: string,
    kind: ConnectFailure["kind"] = { kind: "protocol", code: MCP_CALL_CODES.connectionClosed },
  ): { error: string; failure: HostedCallFailure } {
    if (!target.requestNamed) this.#lastError.set(target.label, { message, at: new Date().toISOString() });
    return { error: message, failure: worded(kind, message) };
  }

  /** Why a request on a connection failed, in words; a stdio server's closed pipe says it exited. */
  #reason(err: unknown, connection: McpConnection): string {
    // tandem closed it: that is why (not the closed connection the request then saw).
    const closedFor = connection.closedFor?.();
    if (closedFor !== undefined) return mcpErrorReason(closedFor, connection.secrets);
    if (connection.kind === "stdio" && isConnectionClosed(err)) {
      return "the server process exited (or closed its output)";
    }
    return mcpErrorReason(err, connection.secrets);
  }

  /** The server a request names, or why it may not be used. */
  #target(server: McpServerRef): Target | { error: string } {
    if (this.#closed) return { error: `MCP server '${server.label}' cannot be used: tandem is shutting down` };
    if (server.url === undefined) {
      const configured = Object.hasOwn(this.#config.servers, server.label) ? this.#config.servers[server.label] : undefined;
      if (configured === undefined) {
        return {
          error: `no MCP server is configured under the label '${server.label}' (mcp.servers), and the request gave no server_url`,
        };
      }
      return {
        key: `label:${server.label}`,
        label: server.label,
        requestNamed: false,
        resolve: async () => {
          if (configured.url !== undefined) {
            const headers = await resolveSecretValues(configured.headers, "header", this.#env, this.#sources);
            // A literal value (`Private-Token: glpat-...`) is as secret as a referenced one: as for a request's headers.
            return {
              endpoint: { transport: "http", url: configured.url, headers: headers.values },
              secrets: [...headers.secrets, ...headerSecrets(headers.values)],
            };
          }
          const resolvedEnv = await resolveSecretValues(configured.env, "env", this.#env, this.#sources);
          const env = { ...resolvedEnv, secrets: [...resolvedEnv.secrets, ...secretEnvValues(resolvedEnv.values)] };
          if (configured.sandbox !== undefined) {
            // Confined, or not started at all: there is no unconfined fallback.
            const confined = await this.#sandbox.endpoint(
              server.label,
              { ...configured, sandbox: configured.sandbox },
              env.values,
            );
            return { endpoint: confined.endpoint, secrets: [...env.secrets, ...confined.secrets] };
          }
          return {
            endpoint: {
              transport: "stdio",
              command: configured.command,
              args: configured.args,
              env: env.values,
              ...(configured.cwd !== undefined ? { cwd: expandHome(configured.cwd) } : {}),
            },
            secrets: env.secrets,
          };
        },
      };
    }
    if (!this.#config.allowRequestServers) {
      return {
        error: `MCP server '${server.label}' cannot be used: this tandem uses only the MCP servers of its config (mcp.allowRequestServers is false)`,
      };
    }
    let url: URL;
    try {
      url = new URL(server.url);
    } catch {
      return { error: `MCP server '${server.label}' cannot be used: its server_url is not a URL` };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return {
        error: `MCP server '${server.label}' cannot be used: its server_url must be http or https, not ${url.protocol.slice(0, -1)}`,
      };
    }
    const headers = { ...(server.headers ?? {}) };
    const sorted = Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // Hashed so the map's keys do not keep a copy of the request's credentials in plain sight.
    const key = `url:${createHash("sha256")
      .update(JSON.stringify([url.href, sorted]))
      .digest("hex")}`;
    return {
      key,
      label: server.label,
      requestNamed: true,
      resolve: async () => ({ endpoint: { transport: "http", url: url.href, headers }, secrets: headerSecrets(headers) }),
    };
  }

  /** The target's connection: the one open, the connect under way, or a new connect (shared by whoever asks meanwhile). */
  async #connection(target: Target, signal: AbortSignal): Promise<{ connection: McpConnection; fresh: boolean }> {
    let slot = this.#slots.get(target.key);
    let fresh = false;
    if (slot === undefined) {
      const created: Slot = { connection: this.#connect(target) };
      slot = created;
      fresh = true;
      this.#slots.set(target.key, created);
      created.connection.then(
        (connection) => {
          created.ready = connection;
          this.#open.add(connection);
          connection.onGone(() => {
            if (this.#slots.get(target.key) === created) this.#slots.delete(target.key);
            const start = this.#starts.get(target.key);
            if (start !== undefined && start.ended === undefined) start.ended = "the server exited";
          });
          connection.onGone(() => void connection.close().finally(() => this.#open.delete(connection)));
          if (target.requestNamed) connection.closeWhenIdle(this.#idleMs);
          if (this.#closed) void connection.close();
        },
        () => {
          if (this.#slots.get(target.key) === created) this.#slots.delete(target.key);
        },
      );
    }
    // The connect goes on for the others when this caller gives up.
    const connection = await raceAbort(slot.connection, signal);
    return { connection, fresh };
  }

  /** Resolves the target's secrets and connects, bounded by `mcp.listTimeoutMs`; a stdio server is not restarted in a loop. */
  async #connect(target: Target): Promise<McpConnection> {
    let resolved: { endpoint: McpEndpoint; secrets: string[] };
    try {
      resolved = await target.resolve();
    } catch (err) {
      if (err instanceof SecretValueError)
        throw new ConnectFailure(`MCP server '${target.label}' cannot be used: ${err.message}`, {
          kind: "protocol",
          code: MCP_CALL_CODES.notSent,
        });
      if (err instanceof SandboxError) {
        const why =
          err.kind === "unavailable" ? `it is sandboxed, and ${err.message}` : `its sandbox cannot be built: ${err.message}`;
        this.#log.warn({ server: target.label, reason: err.message }, "mcp: a sandboxed server is not started");
        throw new ConnectFailure(`MCP server '${target.label}' is not started: ${why}`, {
          kind: "protocol",
          code: MCP_CALL_CODES.notSent,
        });
      }
      throw err;
    }
    const { endpoint, secrets } = resolved;
    if (endpoint.transport === "stdio") {
      const last = this.#starts.get(target.key);
      const now = Date.now();
      if (last?.ended !== undefined && now - last.at < this.#restartIntervalMs) {
        throw new ConnectFailure(
          `MCP server '${target.label}' is not running (${last.ended}); it is started again at most every ${this.#restartIntervalMs} ms`,
        );
      }
      this.#starts.set(target.key, { at: now });
    }
    try {
      // The SDK's client side, with the first connection (see mcp-sdk-errors.ts).
      const [{ openMcpConnection }] = await Promise.all([import("./mcp-connection.js"), loadMcpSdkErrors()]);
      return await openMcpConnection(endpoint, {
        label: target.label,
        timeoutMs: this.#config.listTimeoutMs,
        log: this.#log,
        secrets,
        maxAnswerBytes: this.#maxAnswerBytes,
        // A configured server is the user's own choice; a request's server_url is checked at each connection.
        ...(target.requestNamed && {
          addressRefusal: (address: string) => requestServerAddressRefusal(address, this.#clientsAreLocal),
        }),
      });
    } catch (err) {
      const reason = isRequestTimeout(err)
        ? `no answer within ${this.#config.listTimeoutMs} ms (mcp.listTimeoutMs)`
        : mcpErrorReason(err, secrets);
      const start = this.#starts.get(target.key);
      if (start !== undefined) start.ended = `its start failed: ${reason}`;
      this.#log.debug({ server: target.label, reason }, "mcp: connect failed");
      throw new ConnectFailure(`cannot connect to MCP server '${target.label}': ${reason}`, kindOf(err));
    }
  }

  /** The connection's tools, read once (all pages) and shared until the server says they changed. */
  async #tools(connection: McpConnection, signal: AbortSignal): Promise<HostedToolInfo[]> {
    // A 2026-07-28 server's list is fresh for its ttlMs (it sends no change notification), then listed again.
    if (connection.toolsStaleAt !== undefined && Date.now() >= connection.toolsStaleAt) connection.tools = undefined;
    if (connection.tools === undefined) {
      connection.toolsStaleAt = undefined;
      const listing = this.#listAll(connection);
      connection.tools = listing;
      listing.then(
        (tools) => {
          connection.toolCount = tools.length;
        },
        () => {},
      );
      listing.catch(() => {
        if (connection.tools === listing) connection.tools = undefined;
      });
    }
    return raceAbort(connection.tools, signal);
  }

  /**
   * Every page of the server's tools. Read without the SDK's listTools, whose schema refuses the whole
   * list for one tool it finds malformed (no `inputSchema`, one not of type object: common among
   * servers), which would make every tool of the server unusable: each entry is read on its own, one
   * without a name left out (and logged), its input schema made an object schema (objectSchema).
   * The SDK then knows no tool's output schema, which only it would check: tandem reads the content.
   */
  async #listAll(connection: McpConnection): Promise<HostedToolInfo[]> {
    const tools: HostedToolInfo[] = [];
    const cursors = new Set<string>();
    let cursor: string | undefined;
    let unread = 0;
    let ttlMs = Number.POSITIVE_INFINITY;
    const done = (): HostedToolInfo[] => {
      if (connection.era === MODERN_PROTOCOL_VERSION) connection.toolsStaleAt = Date.now() + (Number.isFinite(ttlMs) ? ttlMs : 0);
      if (unread > 0) {
        this.#log.warn({ server: connection.label, unread }, "mcp: the server lists tools without a name; they are left out");
      }
      return tools;
    };
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await connection.session.listTools(cursor, this.#config.listTimeoutMs);
      ttlMs = Math.min(ttlMs, freshFor(result.ttlMs));
      for (const raw of Array.isArray(result.tools) ? (result.tools as unknown[]) : []) {
        if (tools.length >= MAX_TOOLS) {
          this.#log.warn(
            { server: connection.label, tools: MAX_TOOLS },
            "mcp: the server lists more tools than are read; the rest are left out",
          );
          return done();
        }
        const tool = readTool(raw);
        if (tool === undefined) unread++;
        else tools.push(tool);
      }
      cursor = typeof result.nextCursor === "string" ? result.nextCursor : undefined;
      if (cursor === undefined) return done();
      if (cursors.has(cursor)) break;
      cursors.add(cursor);
    }
    this.#log.warn(
      { server: connection.label, pages: MAX_TOOL_PAGES },
      "mcp: the server's tool list did not end; the tools read so far are used",
    );
    return done();
  }
}

/**
 * The secret values of a request's or a configured server's headers, to clean out of error text and
 * logs (of that server's errors only: a value such as `application/json` is not hunted everywhere): each value, and
 * the credential of an Authorization with a scheme (`Bearer <token>`, as the request's
 * `authorization` is sent), which a server may quote alone.
 */
function headerSecrets(headers: Record<string, string>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    secrets.push(value);
    // Only an authorization's: any other header's words (`X-Client: my tool`) are not secrets to hunt.
    if (!/authorization$/i.test(name)) continue;
    const credential = /^[A-Za-z][\w.+-]*\s+(\S.*)$/.exec(value.trim())?.[1];
    if (credential !== undefined) secrets.push(credential);
  }
  return secrets;
}

/** A stdio server's env variables whose names say they hold a secret (`GITHUB_TOKEN: ghp_...` written literally). */
function secretEnvValues(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([name]) => /token|key|secret|pass|pwd|auth|credential/i.test(name))
    .map(([, value]) => value);
}

/**
 * A failed tool result's content blocks, as `mcp_call.error.content`: as the server sent them when
 * they fit `maxBytes` as JSON, else the text the model read (already cut to `maxBytes`) as one block.
 */
function errorContent(result: McpToolResult, text: string, maxBytes: number): unknown[] {
  const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
  if (content.length > 0 && Buffer.byteLength(JSON.stringify(content)) <= maxBytes) return content;
  return text === "" ? [] : [{ type: "text", text }];
}

/** One entry of a `tools/list` answer as a tool, or undefined when it has no name to call it by. */
function readTool(raw: unknown): HostedToolInfo | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const { name, description, inputSchema, annotations } = raw as Record<string, unknown>;
  if (typeof name !== "string" || name === "") return undefined;
  return {
    name,
    ...(typeof description === "string" && { description }),
    inputSchema: objectSchema(inputSchema),
    ...(annotations !== null &&
      typeof annotations === "object" &&
      !Array.isArray(annotations) && { annotations: annotations as Record<string, unknown> }),
  };
}

/** How long a page of a list stays fresh: its `ttlMs`, or 0 (immediately stale) when absent or negative, as the spec reads it. */
function freshFor(ttlMs: unknown): number {
  return typeof ttlMs === "number" && Number.isFinite(ttlMs) && ttlMs > 0 ? ttlMs : 0;
}

/** A failure of the link itself (not a server's answer): the connection is not to be trusted again. */
function isTransportFailure(err: unknown): boolean {
  if (isMcpError(err)) return isConnectionClosed(err);
  return isHttpTransportError(err) || errnoCode(err) !== undefined || err instanceof TypeError;
}

/**
 * Whether a request that failed on a reused connection is tried once more on a new one: always for
 * one that may be repeated (listing tools); for a tool call, only when the server cannot have run it
 * (its session was unknown: 404, per the Streamable HTTP spec; or the connection was refused).
 */
function mayRetry(err: unknown, idempotent: boolean): boolean {
  if (isStreamableHttpError(err) && err.code === 404) return true;
  if (errnoCode(err) === "ECONNREFUSED") return true;
  return idempotent && isTransportFailure(err);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** The promise, or the signal's reason as soon as it aborts (the promise goes on for others). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
