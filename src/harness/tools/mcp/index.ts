export * from "./mcp-content-text.js";
export * from "./mcp-log.js";
export type { McpSandboxStatus } from "./mcp-sandbox.js";
export { type McpServerStatus, McpToolHost, type McpToolHostOptions } from "./mcp-tool-host.js";
