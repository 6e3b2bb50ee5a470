export type { ModelAnswer } from "./ask-model-tool.js";
export type { TargetIsLocal } from "./list-models-tool.js";
export { answerInvalidParams, invalidPostBody } from "./protocol-checks.js";
export { createTandemMcpServer, type TandemMcpServer, type TandemMcpServerOptions } from "./tandem-mcp-server.js";
