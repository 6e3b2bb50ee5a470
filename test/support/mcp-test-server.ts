/**
 * Real MCP servers for the MCP host's tests, built with the SDK's own McpServer: over Streamable
 * HTTP (stateful sessions, as most servers run), over the legacy SSE transport (a server of the
 * 2024-11-05 protocol, which refuses Streamable HTTP's POST), and over stdio (mcp-stdio-server.ts).
 * They listen on 127.0.0.1 only.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { InMemoryEventStore } from "@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export interface TestToolsOptions {
  /** Extra tools `tool_0` ... named in order, to make the list long. Default 0. */
  extraTools?: number;
  /** Tools per `tools/list` page (then `nextCursor`). Default: one page. */
  pageSize?: number;
  /** Tool entries listed as given, after the real ones, unchecked: a server that lists malformed tools. */
  rawTools?: unknown[];
  /**
   * Two more tools whose calls fail below the tool: `rpc_error` is answered with a JSON-RPC error
   * (code -32050, "the index is offline"), and over HTTP `http_error` with an HTTP 503. Default off.
   */
  failingCalls?: boolean;
}

/** The command and arguments that start the test server over stdio (mcp-stdio-server.ts), as a config's `mcp.servers` entry gives them. */
export const MCP_STDIO_SERVER = {
  command: process.execPath,
  args: ["--import", import.meta.resolve("tsx"), fileURLToPath(new URL("./mcp-stdio-server.ts", import.meta.url))],
};

/** The command and arguments that start mcp-reach-server.ts (tools that read, write, fetch and list the environment) over stdio. */
export const MCP_REACH_SERVER = {
  command: process.execPath,
  args: ["--import", import.meta.resolve("tsx"), fileURLToPath(new URL("./mcp-reach-server.ts", import.meta.url))],
};

/** The command and arguments that start mcp-raw-stdio-server.ts (a server written without the SDK: late answers, JSON-RPC errors, a line without end) over stdio. */
export const MCP_RAW_STDIO_SERVER = {
  command: process.execPath,
  args: ["--import", import.meta.resolve("tsx"), fileURLToPath(new URL("./mcp-raw-stdio-server.ts", import.meta.url))],
};

/** Bytes of the image the `image` tool returns. */
export const IMAGE_BYTES = 1234;

/**
 * An McpServer with the tools the tests call: `echo`, `fail` (isError), `structured` (only
 * structuredContent), `image`, `big` (long output), `slow` (waits), `hangup` (closes its stream, then
 * answers), `pid`, `env`, `crash` (exits the process).
 */
export function buildTestMcpServer(options: TestToolsOptions = {}): McpServer {
  const server = new McpServer({ name: "tandem-test", version: "1.0.0" });
  server.registerTool("echo", { description: "Says the text back", inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  server.registerTool("fail", { description: "Always fails" }, () => ({
    content: [{ type: "text", text: "it broke" }],
    isError: true,
  }));
  server.registerTool("structured", { description: "Structured output only" }, () => ({
    content: [],
    structuredContent: { temperature: 21.5, unit: "C" },
  }));
  server.registerTool("image", { description: "An image and a caption", annotations: { readOnlyHint: true } }, () => ({
    content: [
      { type: "text", text: "a chart" },
      { type: "image", data: Buffer.alloc(IMAGE_BYTES, 7).toString("base64"), mimeType: "image/png" },
      { type: "resource_link", uri: "file:///tmp/chart.png", name: "chart" },
      { type: "resource", resource: { uri: "mem://notes", text: "the notes" } },
    ],
  }));
  server.registerTool(
    "big",
    { description: "Long output", inputSchema: { chars: z.number().int(), char: z.string() } },
    ({ chars, char }) => ({
      content: [{ type: "text", text: char.repeat(chars) }],
    }),
  );
  server.registerTool("slow", { description: "Waits", inputSchema: { ms: z.number().int() } }, async ({ ms }, extra) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      extra.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { content: [{ type: "text", text: `waited ${ms} ms` }] };
  });
  server.registerTool(
    "hangup",
    { description: "Closes its event stream (when resumable), then answers", inputSchema: { ms: z.number().int() } },
    async ({ ms }, extra) => {
      extra.closeSSEStream?.();
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { content: [{ type: "text", text: extra.closeSSEStream ? "answered after a hang-up" : "answered" }] };
    },
  );
  server.registerTool("pid", { description: "This server's process id" }, () => ({
    content: [{ type: "text", text: String(process.pid) }],
  }));
  server.registerTool(
    "env",
    { description: "A variable of this server's environment", inputSchema: { name: z.string() } },
    ({ name }) => ({
      content: [{ type: "text", text: process.env[name] ?? "(unset)" }],
    }),
  );
  server.registerTool("crash", { description: "Exits the server's process" }, () => {
    setImmediate(() => process.exit(3));
    return new Promise(() => {});
  });
  for (let i = 0; i < (options.extraTools ?? 0); i++) {
    server.registerTool(`tool_${i}`, { description: `Extra tool ${i}` }, () => ({
      content: [{ type: "text", text: `tool ${i}` }],
    }));
  }
  if (options.failingCalls) {
    server.registerTool("rpc_error", { description: "Answered with a JSON-RPC error" }, () => ({ content: [] }));
    server.registerTool("http_error", { description: "Answered with HTTP 503" }, () => ({ content: [] }));
    // McpServer makes a tool's thrown error a result with isError: the protocol error is thrown above it.
    const handlers = (
      server.server as unknown as { _requestHandlers: Map<string, (req: unknown, extra: unknown) => Promise<unknown>> }
    )._requestHandlers;
    const call = handlers.get("tools/call");
    server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      if (request.params.name === "rpc_error") throw new McpError(-32050, "the index is offline");
      return (await call?.(request, extra)) as never;
    });
  }
  if (options.rawTools !== undefined) appendRawTools(server, options.rawTools);
  if (options.pageSize !== undefined) paginateTools(server, options.pageSize);
  return server;
}

/** McpServer's tools/list handler of this server. */
function toolsListHandler(server: McpServer): (req: unknown, extra: unknown) => Promise<unknown> {
  // McpServer has no hook for this; its handler is reached through the Protocol's private map.
  const handlers = (
    server.server as unknown as { _requestHandlers: Map<string, (req: unknown, extra: unknown) => Promise<unknown>> }
  )._requestHandlers;
  const all = handlers.get("tools/list");
  if (all === undefined) throw new Error("no tools/list handler to wrap");
  return all;
}

/** Wraps McpServer's tools/list handler so it lists `raw` too, as they are. */
function appendRawTools(server: McpServer, raw: unknown[]): void {
  const all = toolsListHandler(server);
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const { tools } = (await all(request, extra)) as { tools: unknown[] };
    return { tools: [...tools, ...raw] } as never;
  });
}

/** Wraps McpServer's own tools/list handler so it answers in pages with `nextCursor`. */
function paginateTools(server: McpServer, pageSize: number): void {
  // McpServer has no paging of its own.
  const all = toolsListHandler(server);
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const { tools } = (await all(request, extra)) as { tools: unknown[] };
    const start = Number(request.params?.cursor ?? 0);
    const end = start + pageSize;
    return { tools: tools.slice(start, end), ...(end < tools.length ? { nextCursor: String(end) } : {}) };
  });
}

export interface McpHttpServerOptions extends TestToolsOptions {
  /** Port to listen on (to restart a server where it was). Default: any free one. */
  port?: number;
  /** Every request must carry `Authorization: Bearer <this>`, else 401. */
  bearer?: string;
  /** Speak only the legacy SSE transport (GET /mcp opens the stream; POST /mcp is refused with 405). */
  legacySse?: boolean;
  /** No sessions (the SDK's stateless mode, as tandem's own /mcp): each POST answered on its own, GET 405. */
  stateless?: boolean;
  /** Keep every event (the SDK's example event store), so a client resumes a stream the server closes early. */
  resumable?: boolean;
}

export interface McpHttpServer {
  /** The MCP endpoint: `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Headers of every HTTP request received, in order. */
  readonly requests: IncomingMessage["headers"][];
  /** MCP sessions begun (initialize requests answered). */
  readonly sessionsStarted: () => number;
  /** Sessions open now (ended by the client's DELETE or by close). */
  readonly sessionsOpen: () => number;
  /** Each session's McpServer, to change its tools while a client is connected. */
  readonly servers: McpServer[];
  /** Forgets every session, as a restarted server behind a proxy would: the next request with one gets 404. */
  forgetSessions(): void;
  /** Stops listening and drops every connection (event streams too). */
  close(): Promise<void>;
  /** Ends every event stream open now (each stateless request's), without answering what it was for. */
  endStreams(): Promise<void>;
  /** TCP connections open to it now. */
  openConnections(): Promise<number>;
}

/** A real MCP server over Streamable HTTP (stateful sessions), or over legacy SSE, on 127.0.0.1. */
export async function startMcpHttpServer(options: McpHttpServerOptions = {}): Promise<McpHttpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport | SSEServerTransport>();
  const requests: IncomingMessage["headers"][] = [];
  const servers: McpServer[] = [];
  /** Stateless mode: the transports of the requests being answered. */
  const inFlight = new Set<StreamableHTTPServerTransport>();
  let started = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests.push(req.headers);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (options.bearer !== undefined && req.headers.authorization !== `Bearer ${options.bearer}`) {
      res
        .writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" })
        .end(JSON.stringify({ error: "unauthorized" }));
      return;
    }
    if (options.legacySse) {
      if (req.method === "GET" && path === "/mcp") {
        const transport = new SSEServerTransport("/messages", res);
        sessions.set(transport.sessionId, transport);
        transport.onclose = () => sessions.delete(transport.sessionId);
        const server = buildTestMcpServer(options);
        servers.push(server);
        started++;
        await server.connect(transport);
        return;
      }
      if (req.method === "POST" && path === "/messages") {
        const id = new URL(req.url ?? "/", "http://127.0.0.1").searchParams.get("sessionId") ?? "";
        const transport = sessions.get(id);
        if (!(transport instanceof SSEServerTransport)) return void res.writeHead(404).end("no such session");
        await transport.handlePostMessage(req, res);
        return;
      }
      res.writeHead(405, { allow: "GET" }).end("method not allowed");
      return;
    }
    if (path !== "/mcp") return void res.writeHead(404).end("not found");
    let parsed: unknown;
    if (options.failingCalls && req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const message = parsed as { method?: unknown; params?: { name?: unknown } };
      if (message.method === "tools/call" && message.params?.name === "http_error") {
        return void res.writeHead(503, { "content-type": "text/plain" }).end("the index is being rebuilt");
      }
    }
    if (options.stateless) {
      if (req.method !== "POST") return void res.writeHead(405, { allow: "POST" }).end("method not allowed");
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      inFlight.add(transport);
      res.once("close", () => inFlight.delete(transport));
      const server = buildTestMcpServer(options);
      await server.connect(transport);
      await transport.handleRequest(req, res, parsed);
      return;
    }
    const id = req.headers["mcp-session-id"];
    const existing = typeof id === "string" ? sessions.get(id) : undefined;
    if (existing instanceof StreamableHTTPServerTransport) {
      await existing.handleRequest(req, res, parsed);
      return;
    }
    if (typeof id === "string") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
      return;
    }
    const server = buildTestMcpServer(options);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      ...(options.resumable && { eventStore: new InMemoryEventStore(), retryInterval: 50 }),
      onsessioninitialized: (sessionId) => {
        started++;
        sessions.set(sessionId, transport);
        // Only a session's server: a POST refused before initialize (a 2026-07-28 client's probe) has none.
        servers.push(server);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, parsed);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    requests,
    servers,
    sessionsStarted: () => started,
    sessionsOpen: () => sessions.size,
    forgetSessions: () => sessions.clear(),
    async close() {
      for (const transport of sessions.values()) await transport.close().catch(() => {});
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
    openConnections: () =>
      new Promise<number>((resolve, reject) => http.getConnections((err, count) => (err ? reject(err) : resolve(count)))),
    async endStreams() {
      await Promise.all([...inFlight].map((transport) => transport.close()));
    },
  };
}
