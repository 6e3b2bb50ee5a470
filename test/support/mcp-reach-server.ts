/**
 * A stdio MCP server whose tools try to reach things, for the sandbox's tests: `read_file`,
 * `write_file`, `list_dir` (paths as given, relative to its directory), `fetch_url` (an HTTP GET),
 * `list_env` (its whole environment, as JSON), `cwd` and `allocate` (holds that many MiB of memory). A failure comes back as the tool's error
 * (`isError`) with the system's code (ENOENT, EROFS, ECONNREFUSED, ...), so a test reads what the
 * sandbox refused. Run as MCP_REACH_SERVER (mcp-test-server.ts) starts it.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { dirname } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "tandem-reach", version: "1.0.0" });

/** The tool's answer: its text, or the error's code and message as a tool error. */
async function attempt(work: () => Promise<string>) {
  try {
    return { content: [{ type: "text" as const, text: await work() }] };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "ERROR";
    return { content: [{ type: "text" as const, text: `${code}: ${(err as Error).message}` }], isError: true };
  }
}

server.registerTool("read_file", { description: "Reads a text file", inputSchema: { path: z.string() } }, ({ path }) =>
  attempt(() => readFile(path, "utf8")),
);
server.registerTool(
  "write_file",
  { description: "Writes a text file (and its folders)", inputSchema: { path: z.string(), text: z.string() } },
  ({ path, text }) =>
    attempt(async () => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      return `wrote ${path}`;
    }),
);
server.registerTool("list_dir", { description: "Lists a folder", inputSchema: { path: z.string() } }, ({ path }) =>
  attempt(async () => (await readdir(path)).sort().join("\n")),
);
server.registerTool("fetch_url", { description: "HTTP GET, the body", inputSchema: { url: z.string() } }, ({ url }) =>
  attempt(
    () =>
      new Promise<string>((resolve, reject) => {
        const request = get(url, { timeout: 5000 }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => resolve(body));
          res.on("error", reject);
        });
        request.on("timeout", () => request.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
        request.on("error", reject);
      }),
  ),
);
server.registerTool("list_env", { description: "This server's environment, as JSON" }, () =>
  attempt(async () => JSON.stringify(process.env)),
);
const held: Buffer[] = [];
server.registerTool(
  "allocate",
  { description: "Allocates and holds this many MiB", inputSchema: { mib: z.number().int().positive() } },
  ({ mib }) =>
    attempt(async () => {
      held.push(Buffer.alloc(mib * 1024 * 1024, 1));
      return `holding ${held.reduce((sum, buffer) => sum + buffer.length, 0) / (1024 * 1024)} MiB`;
    }),
);
server.registerTool("cwd", { description: "This server's working directory" }, () => attempt(async () => process.cwd()));

await server.connect(new StdioServerTransport());
process.stdin.on("end", () => process.exit(0));
