/**
 * An MCP server that speaks only the stateless revision, 2026-07-28, on node:http, as its spec has a
 * modern-only server do (basic/versioning, basic/transports/streamable-http, server/discover,
 * server/tools, server/utilities/caching): no initialize (it is -32601 with a 404, naming the
 * supported versions), every request checked for its `_meta` and its `MCP-Protocol-Version`,
 * `Mcp-Method` and `Mcp-Name` headers, `tools/list` in pages with `ttlMs` and `cacheScope`, every
 * result with `resultType`. Its tools: `echo` (says `text` back), `slow` (waits `ms`, ended early
 * when its POST closes), `fail` (a tool error), `region` (its `region` argument mirrored into
 * `Mcp-Param-Region` by `x-mcp-header`), plus `extraTools` named `tool_<n>`. Answers in JSON, or in
 * an event stream (`sse`) that sends a progress notification before the answer.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const VERSION = "2026-07-28";

export interface Mcp2026ServerOptions {
  /** Tools listed per page (default: all in one). */
  pageSize?: number;
  /** More tools, `tool_0`... */
  extraTools?: number;
  /** Answer requests in an event stream rather than JSON. Default false. */
  sse?: boolean;
  /** The `ttlMs` of tools/list pages. Default 60000. */
  ttlMs?: number;
  /** The versions `server/discover` lists. Default [2026-07-28]. */
  supportedVersions?: string[];
  /** A bearer key every request must carry. */
  bearer?: string;
}

export interface Mcp2026Server {
  url: string;
  /** Every POST's headers and body, in order. */
  requests: Array<{ headers: IncomingMessage["headers"]; body: Record<string, unknown> }>;
  /** Calls of `slow` whose POST closed before they finished. */
  cancelled(): number;
  close(): Promise<void>;
}

type Tool = Record<string, unknown> & { name: string };

const BASE_TOOLS: Tool[] = [
  {
    name: "echo",
    description: "Says the text back",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  },
  { name: "slow", description: "Waits", inputSchema: { type: "object", properties: { ms: { type: "integer" } } } },
  { name: "fail", description: "Always fails", inputSchema: { type: "object" } },
  {
    name: "region",
    description: "Runs in a region",
    inputSchema: {
      type: "object",
      properties: { region: { type: "string", "x-mcp-header": "Region" }, query: { type: "string" } },
      required: ["region"],
    },
  },
];

export async function startMcp2026Server(options: Mcp2026ServerOptions = {}): Promise<Mcp2026Server> {
  const tools: Tool[] = [...BASE_TOOLS];
  for (let n = 0; n < (options.extraTools ?? 0); n++) {
    tools.push({ name: `tool_${n}`, description: `Tool ${n}`, inputSchema: { type: "object" } });
  }
  const requests: Mcp2026Server["requests"] = [];
  let cancelled = 0;
  const serverInfo = { name: "modern-only", version: "1.0.0" };

  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const send = (status: number, message: unknown) => {
        if (res.writableEnded || res.destroyed) return;
        if (status === 200 && options.sse) {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          const id = (message as { id?: unknown }).id;
          const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: id, progress: 1 } };
          res.write(`: keep-alive\n\nevent: message\ndata: ${JSON.stringify(progress)}\n\n`);
          res.end(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
          return;
        }
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(message));
      };
      if (req.method !== "POST") return void res.writeHead(405, { allow: "POST" }).end();
      if (options.bearer !== undefined && req.headers.authorization !== `Bearer ${options.bearer}`) {
        return void res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(400, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" } });
      }
      requests.push({ headers: req.headers, body });
      const id = body.id as string | number | undefined;
      const error = (status: number, code: number, message: string, data?: unknown) =>
        send(status, { jsonrpc: "2.0", id, error: { code, message, ...(data !== undefined && { data }) } });
      if (id === undefined) return void res.writeHead(202).end();
      const params = (body.params ?? {}) as Record<string, unknown>;
      const meta = (params._meta ?? {}) as Record<string, unknown>;
      const version = meta["io.modelcontextprotocol/protocolVersion"];
      const supported = options.supportedVersions ?? [VERSION];
      if (version === undefined) {
        const what =
          body.method === "initialize"
            ? "initialize is not a method of 2026-07-28; supported: 2026-07-28"
            : "_meta protocolVersion is required";
        return error(body.method === "initialize" ? 404 : 400, body.method === "initialize" ? -32601 : -32602, what);
      }
      if (!supported.includes(String(version))) {
        return error(400, -32022, "Unsupported protocol version", { supported, requested: version });
      }
      if (typeof meta["io.modelcontextprotocol/clientCapabilities"] !== "object") {
        return error(400, -32602, "clientCapabilities is required");
      }
      if (req.headers["mcp-protocol-version"] !== version) return error(400, -32020, "Header mismatch: MCP-Protocol-Version");
      if (req.headers["mcp-method"] !== body.method) return error(400, -32020, "Header mismatch: Mcp-Method");
      const complete = (result: Record<string, unknown>) =>
        send(200, {
          jsonrpc: "2.0",
          id,
          result: { ...result, resultType: "complete", _meta: { "io.modelcontextprotocol/serverInfo": serverInfo } },
        });
      switch (body.method) {
        case "server/discover":
          return complete({ supportedVersions: supported, capabilities: { tools: {} }, ttlMs: 60_000, cacheScope: "public" });
        case "tools/list": {
          const size = options.pageSize ?? tools.length;
          const start = typeof params.cursor === "string" ? Number(params.cursor) : 0;
          if (!Number.isInteger(start) || start < 0 || start > tools.length) return error(200, -32602, "Invalid cursor");
          const page = tools.slice(start, start + size);
          const next = start + size < tools.length ? String(start + size) : undefined;
          return complete({
            tools: page,
            ...(next !== undefined && { nextCursor: next }),
            ttlMs: options.ttlMs ?? 60_000,
            cacheScope: "public",
          });
        }
        case "tools/call": {
          const name = params.name;
          const raw = req.headers["mcp-name"];
          const header =
            typeof raw === "string" && raw.startsWith("=?base64?") && raw.endsWith("?=")
              ? Buffer.from(raw.slice(9, -2), "base64").toString("utf8")
              : raw;
          if (header !== name) return error(400, -32020, "Header mismatch: Mcp-Name");
          const args = (params.arguments ?? {}) as Record<string, unknown>;
          const text = (t: string, isError = false) =>
            complete({ content: [{ type: "text", text: t }], ...(isError && { isError }) });
          if (name === "echo") return text(String(args.text));
          if (name === "fail") return text("it broke", true);
          if (name === "region") {
            if (req.headers["mcp-param-region"] !== args.region) return error(400, -32020, "Header mismatch: Mcp-Param-Region");
            return text(`ran in ${String(args.region)}`);
          }
          if (name === "slow") {
            const timer = setTimeout(() => text("done"), Number(args.ms ?? 0));
            res.once("close", () => {
              if (!res.writableEnded) {
                clearTimeout(timer);
                cancelled++;
              }
            });
            return;
          }
          if (typeof name === "string" && tools.some((tool) => tool.name === name)) return text(name);
          return error(200, -32602, `Unknown tool: ${String(name)}`);
        }
        default:
          return error(404, -32601, `Method not found: ${String(body.method)}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    cancelled: () => cancelled,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
