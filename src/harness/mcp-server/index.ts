export type { ModelAnswer } from "./ask-model-tool.js";
export type { TargetIsLocal } from "./list-models-tool.js";
export { createTandemMcpServer, type TandemMcpServerOptions } from "./tandem-mcp-server.js";
