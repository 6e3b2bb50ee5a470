/**
 * Where the MCP host writes what it does: the part of a pino logger it uses (the server passes its
 * own), so the harness depends on no logging library. Nothing logged holds a header value or a
 * secret of a server's env.
 */
export interface McpLog {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Logs nothing: for tests and tools that do not care. */
export const SILENT_MCP_LOG: McpLog = { debug() {}, warn() {} };
