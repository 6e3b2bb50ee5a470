export type { ModelAnswer } from "./ask-model-tool.js";
export type { TargetIsLocal } from "./list-models-tool.js";
export {
  answerModernRequest,
  isModernRequest,
  MODERN_PROTOCOL_VERSION,
  type ModernAnswer,
  SUPPORTED_VERSIONS,
} from "./modern-protocol.js";
export { invalidPostBody, screenRequests } from "./protocol-checks.js";
export { createTandemMcpServer, type TandemMcpServer, type TandemMcpServerOptions } from "./tandem-mcp-server.js";
