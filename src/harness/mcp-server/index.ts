export { MODERN_PROTOCOL_VERSION } from "../mcp-protocol/index.js";
export type { ModelAnswer } from "./ask-model-tool.js";
export type { TargetIsLocal } from "./list-models-tool.js";
export { answerModernRequest, isModernRequest, type ModernAnswer, SUPPORTED_VERSIONS } from "./modern-protocol.js";
export { invalidPostBody, screenRequests } from "./protocol-checks.js";
export { createTandemMcpServer, type TandemMcpServer, type TandemMcpServerOptions } from "./tandem-mcp-server.js";
