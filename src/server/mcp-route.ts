import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { GatewayError, Usage } from "../core/index.js";
import { type ErrorRendering, requestRecord } from "../dialects/shared/index.js";
import type { TandemMcpServer, TandemMcpServerOptions } from "../harness/mcp-server/index.js";
import { loggableError } from "../telemetry/loggable-error.js";

/**
 * The MCP server's code and the SDK's transport, loaded by the first request to /mcp: the SDK's
 * module graph (with its JSON Schema converter) is about 0.2 s of a start that most servers never
 * need at once.
 */
async function loadMcp() {
  const [harness, { StreamableHTTPServerTransport }] = await Promise.all([
    import("../harness/mcp-server/index.js"),
    import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
  ]);
  return { ...harness, StreamableHTTPServerTransport };
}
type McpCode = Awaited<ReturnType<typeof loadMcp>>;
let mcpCode: Promise<McpCode> | undefined;

/** Where MCP clients reach tandem's own tools (Streamable HTTP). */
export const MCP_PATH = "/mcp";

/** JSON-RPC's "server error" range, as the SDK answers a method it does not serve, a 413 or a 415. */
const SERVER_ERROR = -32000;
/** JSON-RPC's code for a request that is not a valid one. */
const INVALID_REQUEST = -32600;
/** JSON-RPC's code for a body that is not JSON. */
const PARSE_ERROR = -32700;
/** JSON-RPC's code for a fault of the server's own. */
const INTERNAL_ERROR = -32603;
/**
 * Messages one POST may batch (JSON-RPC batches; the MCP spec dropped them in 2025-06-18, the SDK
 * still takes them). Each may be an `ask_model` call, all run at once: unbounded, one request could
 * start any number of model calls.
 */
export const MAX_MCP_BATCH = 16;

/**
 * Mounts tandem's MCP server at `/mcp` (Streamable HTTP, stateless: every POST is answered by a
 * server and transport of its own, so nothing is kept between requests and any number of clients can
 * call at once). Dual-era: a POST that declares 2026-07-28 (the stateless revision, no handshake) in
 * its `_meta` or its MCP-Protocol-Version header is answered by answerModernRequest, any other by the
 * SDK's transport (the handshake revisions, 2024-11-05 to 2025-11-25). It sits behind the same front door as every route: the onRequest hook has checked
 * Host and Origin (the DNS-rebinding check the MCP spec asks for) and the client key before a
 * handler runs, and Fastify has parsed the JSON body, which is handed to the SDK's transport with the
 * raw request and response.
 */
export function registerMcpRoute(app: FastifyInstance, options: McpRouteOptions): void {
  app.post(MCP_PATH, async (request, reply) => {
    const record = requestRecord(request);
    record.dialect = "mcp";
    // An empty body (which the JSON parser reads as none) is no JSON at all: JSON-RPC's parse error.
    if (request.body === undefined) return reply.code(400).send(jsonRpcError(PARSE_ERROR, "Parse error: the body is empty"));
    mcpCode ??= loadMcp();
    const mcp = await mcpCode;
    const { isModernRequest, invalidPostBody, screenRequests, StreamableHTTPServerTransport } = mcp;
    const header = request.headers["mcp-protocol-version"];
    const version = typeof header === "string" ? header : undefined;
    const modern = isModernRequest(request.body, version);
    const invalid = invalidPostBody(request.body, version);
    if (invalid !== undefined) {
      return reply.code(400).send(modern ? modernError(INVALID_REQUEST, invalid) : jsonRpcError(INVALID_REQUEST, invalid));
    }
    if (modern) return answerModern(request, reply, options, mcp);
    if (Array.isArray(request.body) && request.body.length > MAX_MCP_BATCH) {
      return reply
        .code(400)
        .send(
          jsonRpcError(
            INVALID_REQUEST,
            `Invalid Request: a batch holds at most ${MAX_MCP_BATCH} messages (this one holds ${request.body.length})`,
          ),
        );
    }
    const { server, tools } = serverFor(request, options, mcp);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    // The client went away (or the answer is done): any tool call still running is cancelled, upstream work with it.
    reply.raw.once("close", () => {
      void transport.close();
      void server.close();
    });
    reply.hijack();
    try {
      await server.connect(transport);
      screenRequests(transport, tools);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch {
      answerFailure(reply);
    }
  });
  // Stateless: no stream for server-initiated messages to GET, no session to DELETE (the spec's 405 for
  // both); any other method is not the transport's either (405, as the SDK's transport answers it).
  const notAllowed = async (request: FastifyRequest, reply: FastifyReply) => {
    requestRecord(request).dialect = "mcp";
    return reply.code(405).header("allow", "POST").send(jsonRpcError(SERVER_ERROR, "Method not allowed."));
  };
  app.route({ method: ["GET", "DELETE", "PUT", "PATCH"], url: MCP_PATH, handler: notAllowed });
}

/** What the route makes each request's MCP server from, and the log its tools' internal failures go to. */
type McpRouteOptions = Omit<TandemMcpServerOptions, "onAnswer" | "onInternalError"> & { logger: Logger };

/**
 * tandem's MCP server for one POST, its ask_model calls written to the request's log record, and a
 * tool's internal failure (which the client reads only as "see the server log") to the server log.
 */
function serverFor(request: FastifyRequest, options: McpRouteOptions, { createTandemMcpServer }: McpCode): TandemMcpServer {
  const record = requestRecord(request);
  const { logger, ...serverOptions } = options;
  return createTandemMcpServer({
    ...serverOptions,
    onInternalError: (err, tool) =>
      logger.error({ requestId: request.id, tool, err: loggableError(err) }, "an MCP tool failed inside tandem"),
    // An ask_model call is a model request like any other: the request log and usage rows get it.
    onAnswer: (answer) => {
      record.model = answer.model;
      record.meta = answer.meta;
      record.usage = { inputTokens: 0, outputTokens: 0, ...answer.usage } as Usage;
    },
  });
}

/**
 * A POST of the 2026-07-28 revision: a JSON answer when the client takes JSON, else one SSE event
 * (an error before the request ran is always JSON, with its HTTP status); 202 for a notification.
 */
async function answerModern(
  request: FastifyRequest,
  reply: FastifyReply,
  options: McpRouteOptions,
  code: McpCode,
): Promise<FastifyReply> {
  const format = answerFormat(request.headers.accept);
  if (format === undefined) {
    return reply
      .code(406)
      .send(modernError(SERVER_ERROR, "Not Acceptable: the client must accept application/json or text/event-stream"));
  }
  const mcp = serverFor(request, options, code);
  // The client went away (or the answer is done): a tool call still running is cancelled, upstream work with it.
  reply.raw.once("close", () => void mcp.server.close());
  let answer: Awaited<ReturnType<McpCode["answerModernRequest"]>>;
  try {
    answer = await code.answerModernRequest(request.body, request.headers, mcp);
  } catch {
    return reply.code(500).send(modernError(INTERNAL_ERROR, "Internal error in tandem"));
  }
  if (answer.message === undefined) return reply.code(202).send();
  if (format === "json" || answer.status !== 200) return reply.code(answer.status).send(answer.message);
  return reply
    .code(200)
    .header("content-type", "text/event-stream")
    .header("cache-control", "no-cache")
    .header("x-accel-buffering", "no")
    .send(`event: message\ndata: ${JSON.stringify(answer.message)}\n\n`);
}

/** How a 2026-07-28 answer is written for an Accept header: JSON where taken (or nothing said), else SSE, else neither. */
function answerFormat(accept: string | undefined): "json" | "sse" | undefined {
  if (accept === undefined || accept.trim() === "") return "json";
  const types = accept.split(",").map((part) => (part.split(";")[0] ?? "").trim().toLowerCase());
  if (types.some((type) => type === "application/json" || type === "application/*" || type === "*/*")) return "json";
  if (types.some((type) => type === "text/event-stream" || type === "text/*")) return "sse";
  return undefined;
}

/** Whether a request is for tandem's MCP endpoint (its path, whatever its query). */
export function isMcpRequest(url: string): boolean {
  return url === MCP_PATH || url.startsWith(`${MCP_PATH}?`);
}

/**
 * An error met before the MCP transport saw the request (a body that is not JSON, not labelled JSON
 * or too large; a missing key) as the SDK's transport answers its own: the HTTP status with a
 * JSON-RPC error and `id: null`, never another API's error shape an MCP client cannot read. A body
 * that does not parse is JSON-RPC's parse error; the rest are in the server-error range, as the
 * SDK's own 413 and 415 are.
 */
export function renderMcpError(error: GatewayError): ErrorRendering {
  const code = error.code === "invalid_request" ? PARSE_ERROR : error.code === "internal" ? INTERNAL_ERROR : SERVER_ERROR;
  const message = code === PARSE_ERROR ? `Parse error: ${error.message}` : error.message;
  return { status: error.status, body: jsonRpcError(code, message) };
}

/** A JSON-RPC error answer to a request whose id is not known (`id: null`), as the SDK's transport writes one. */
function jsonRpcError(code: number, message: string): { jsonrpc: "2.0"; error: { code: number; message: string }; id: null } {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}

/** A 2026-07-28 error answer to a request whose id is not known: that revision's error response has no `id` then (not `id: null`). */
function modernError(code: number, message: string): { jsonrpc: "2.0"; error: { code: number; message: string } } {
  return { jsonrpc: "2.0", error: { code, message } };
}

/** The transport failed before it could answer: a JSON-RPC internal error, never a dropped connection. */
function answerFailure(reply: FastifyReply): void {
  const raw = reply.raw;
  if (raw.headersSent) {
    raw.end();
    return;
  }
  raw.writeHead(500, { "content-type": "application/json" });
  raw.end(JSON.stringify(jsonRpcError(INTERNAL_ERROR, "Internal error in tandem")));
}
