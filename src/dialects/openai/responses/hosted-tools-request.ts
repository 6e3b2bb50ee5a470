import { GatewayError, type HostedApproval, type HostedToolInfo, type HostedToolsRequest } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import type { ParsedResponsesRequest } from "./parse-responses-request.js";

/**
 * What the tool loop needs of a Responses request with `mcp` tools, from its items (the history, then
 * the new input): the tools each server listed earlier in the conversation (its `mcp_list_tools`
 * items, which OpenAI too does not fetch again), and the client's approvals in the new input
 * (`mcp_approval_response`), each matched to the `mcp_approval_request` it answers. An approval of
 * a request the conversation does not hold is OpenAI's 400. A declined call needs no run: the history
 * tells the model (convert-items-to-messages.ts).
 */
export function hostedToolsRequest(
  parsed: ParsedResponsesRequest,
  items: ReadonlyArray<{ item: StateItem }>,
  newInput: ReadonlySet<StateItem>,
): HostedToolsRequest {
  const requests = new Map<string, StateItem>();
  const answered = new Set<string>();
  const approvals: HostedApproval[] = [];
  for (const { item } of items) {
    if (item.type === "mcp_approval_request") {
      requests.set(item.id, item);
    } else if (item.type === "mcp_call" && typeof item.approval_request_id === "string") {
      answered.add(item.approval_request_id);
    } else if (item.type === "mcp_approval_response" && newInput.has(item)) {
      const id = String(item.approval_request_id);
      const request = requests.get(id);
      if (request === undefined) {
        throw new GatewayError("invalid_request", `No MCP approval request with id '${id}' was found in this conversation.`, {
          param: "input",
          reason: "invalid_value",
        });
      }
      if (item.approve !== true || answered.has(id)) continue;
      answered.add(id);
      approvals.push({
        requestId: id,
        server: String(request.server_label),
        name: String(request.name),
        arguments: typeof request.arguments === "string" ? request.arguments : "{}",
        approve: true,
        ...(typeof item.reason === "string" && { reason: item.reason }),
      });
    }
  }
  return {
    servers: parsed.mcp,
    ...(parsed.fileSearch !== undefined && { fileSearch: parsed.fileSearch }),
    approvals,
    listed: new Map(listedTools(items)),
    ...(parsed.maxToolCalls !== undefined && { maxCalls: parsed.maxToolCalls }),
  };
}

/**
 * The tools each MCP server listed in the conversation (its last `mcp_list_tools` item that did not
 * fail), by server label: neither a request's own servers nor a route's are listed again (as OpenAI
 * does not fetch them again), and the model is offered what the client was shown.
 */
export function listedTools(items: ReadonlyArray<{ item: StateItem }>): Map<string, HostedToolInfo[]> {
  const listed = new Map<string, HostedToolInfo[]>();
  for (const { item } of items) {
    if (
      item.type === "mcp_list_tools" &&
      typeof item.server_label === "string" &&
      Array.isArray(item.tools) &&
      item.error == null
    ) {
      listed.set(item.server_label, (item.tools as Record<string, unknown>[]).map(toolInfo));
    }
  }
  return listed;
}

function toolInfo(raw: Record<string, unknown>): HostedToolInfo {
  const schema = raw.input_schema;
  return {
    name: String(raw.name),
    ...(typeof raw.description === "string" && { description: raw.description }),
    inputSchema:
      schema !== null && typeof schema === "object" ? (schema as Record<string, unknown>) : { type: "object", properties: {} },
    ...(raw.annotations !== null &&
      typeof raw.annotations === "object" && { annotations: raw.annotations as Record<string, unknown> }),
  };
}
