/**
 * The test MCP server over stdio, as the MCP host starts a configured `command`: run with
 * `node --import tsx test/support/mcp-stdio-server.ts`. It says on stderr that it started (the host
 * logs a server's stderr at debug) and exits when its stdin closes.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { buildTestMcpServer } from "./mcp-test-server.js";

const server = buildTestMcpServer();
await server.connect(new StdioServerTransport());
process.stderr.write(`mcp stdio test server ${process.pid} ready\n`);
process.stdin.on("end", () => process.exit(0));
