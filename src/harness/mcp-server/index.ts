export type { ModelAnswer } from "./ask-model-tool.js";
export type { TargetIsLocal } from "./list-models-tool.js";
export { invalidPostBody, screenRequests } from "./protocol-checks.js";
export { createTandemMcpServer, type TandemMcpServer, type TandemMcpServerOptions } from "./tandem-mcp-server.js";
