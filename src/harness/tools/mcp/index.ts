export * from "./mcp-content-text.js";
export * from "./mcp-log.js";
export { McpToolHost, type McpToolHostOptions } from "./mcp-tool-host.js";
