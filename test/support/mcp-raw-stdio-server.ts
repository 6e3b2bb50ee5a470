/**
 * A stdio MCP server written without the SDK, line by line, for what the SDK's own server never
 * does: `slow` answers after `ms` even when the call was cancelled (the MCP spec lets a receiver
 * ignore `notifications/cancelled`, so the answer arrives late); `rpc_error` answers with a JSON-RPC
 * error of code -32000 (the code the SDK also uses for a closed connection) and the `message` given;
 * `noline` writes `mib` MiB to stdout without a newline; `long` answers with a line of `mib` MiB; `stray` first answers an id no request has
 * (99999), then its own; `twice` answers its call two times; `pid` says its process id. Run with
 * `node --import tsx test/support/mcp-raw-stdio-server.ts` (MCP_RAW_STDIO_SERVER).
 */
import { createInterface } from "node:readline";

type Message = { jsonrpc: "2.0"; id?: string | number; method?: string; params?: Record<string, unknown> };

const tool = (name: string, properties: Record<string, unknown> = {}) => ({
  name,
  inputSchema: { type: "object", properties },
});
const TOOLS = [
  tool("slow", { ms: { type: "number" } }),
  tool("rpc_error", { message: { type: "string" } }),
  tool("noline", { mib: { type: "number" } }),
  tool("long", { mib: { type: "number" } }),
  tool("stray"),
  tool("twice"),
  tool("pid"),
];

const send = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
const text = (id: Message["id"], value: string) => send({ id, result: { content: [{ type: "text", text: value }] } });

function call(id: Message["id"], name: unknown, args: Record<string, unknown>): void {
  if (name === "slow") {
    setTimeout(() => text(id, `waited ${Number(args.ms)} ms`), Number(args.ms));
  } else if (name === "rpc_error") {
    send({ id, error: { code: -32000, message: String(args.message) } });
  } else if (name === "noline") {
    let left = Number(args.mib);
    const chunk = "x".repeat(1 << 20);
    const write = () => {
      if (left-- > 0) process.stdout.write(chunk, () => setImmediate(write));
    };
    write();
  } else if (name === "long") {
    text(id, "x".repeat(Number(args.mib) * (1 << 20)));
  } else if (name === "stray") {
    text(99999, "an answer to nothing");
    text(id, "answered after a stray one");
  } else if (name === "twice") {
    text(id, "answered once");
    text(id, "answered twice");
  } else if (name === "pid") {
    text(id, String(process.pid));
  } else {
    send({ id, error: { code: -32602, message: `unknown tool ${String(name)}` } });
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  let message: Message;
  try {
    message = JSON.parse(line) as Message;
  } catch {
    return;
  }
  // Notifications (`notifications/cancelled` too) are not answered, and change nothing here.
  if (message.id === undefined) return;
  const params = message.params ?? {};
  if (message.method === "initialize") {
    send({
      id: message.id,
      result: { protocolVersion: params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } },
    });
  } else if (message.method === "tools/list") send({ id: message.id, result: { tools: TOOLS } });
  else if (message.method === "tools/call") call(message.id, params.name, (params.arguments ?? {}) as Record<string, unknown>);
  else send({ id: message.id, result: {} });
});
process.stdin.on("end", () => process.exit(0));
