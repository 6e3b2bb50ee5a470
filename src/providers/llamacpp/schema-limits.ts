import { type ChatRequest, GatewayError, schemaOverLimits, UNSUPPORTED_BY_TARGET } from "../../core/index.js";

/**
 * The engine's refusal of a schema beyond SCHEMA_LIMITS (OpenAI's Structured Outputs limits: 1,000
 * enum values, 5,000 properties, 10 levels...), its response format's or a tool's, or undefined when
 * every schema is within them. The engine holds the model to a schema with a grammar that every
 * token is checked against, in the one process that serves every local model: a grammar of 15,000
 * enum values took 36 s and held the other models' requests for 13.7 s, one of 40,000 got the engine
 * killed as hung. A 400 naming the limit, never a 503 or 504 that SDKs retry; UNSUPPORTED_BY_TARGET,
 * so that a route goes on to a cloud target, whose upstream decides (router/retry-policy.ts). Asked
 * before a slot is taken and the model loaded.
 */
export function schemaLimitRefusal(request: ChatRequest, target: string): GatewayError | undefined {
  const format = request.responseFormat;
  if (format?.type === "json_schema") {
    const over = schemaOverLimits(format.schema);
    const param = format.param ?? "response_format";
    if (over !== undefined) return refusal(`Invalid schema for '${param}' on ${target}: ${over}.`, param, target);
  }
  if (request.tools === undefined || request.toolChoice === "none") return undefined;
  for (const tool of request.tools) {
    const over = tool.parameters === undefined ? undefined : schemaOverLimits(tool.parameters);
    if (over !== undefined) return refusal(`Invalid parameters for tool '${tool.name}' on ${target}: ${over}.`, "tools", target);
  }
  return undefined;
}

function refusal(message: string, param: string, target: string): GatewayError {
  return new GatewayError("invalid_request", message, { param, target, retryable: false, reason: UNSUPPORTED_BY_TARGET });
}
