import {
  type AssistantMessage,
  type ContentPart,
  FILE_SEARCH_FUNCTION,
  fileSearchText,
  hostedToolName,
  type ImageDetail,
  type Message,
  type ReasoningPart,
} from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { headerSafe } from "../../shared/index.js";
import { imageSource } from "../convert-from-openai-messages.js";
import { customToolArguments } from "../custom-tools.js";
import { type FileResolver, filePartsOf } from "../files/file-resolver.js";
import { redactedThinking, thinkingSignature } from "../state/index.js";
import { fileOfPart } from "./item-files.js";
import { namespacedToolName } from "./namespaced-tools.js";
import type { ResponseWarnings } from "./response-warnings.js";

interface PartFields {
  type?: unknown;
  text?: unknown;
  refusal?: unknown;
  image_url?: unknown;
  detail?: unknown;
  file_id?: unknown;
}

/**
 * Items in the Responses API's shapes (stored history and the new input, already checked) ->
 * canonical messages. A `function_call` joins the assistant turn just before it (calls made in one
 * turn become one assistant message with several tool calls); a `function_call_output` becomes the
 * tool result for its `call_id`, named after the call (Ollama needs the name). A reasoning item is
 * reasoning of the assistant turn after it: its summary as the text, and what only its maker can
 * read (a Responses upstream's `encrypted_content`, an Anthropic signature tandem kept, see
 * state/thinking-signature.ts) with that maker, its `origins` entry; the router sends each target what it can
 * read of it and names the rest (core/reasoning.ts). Item types tandem does not know and content parts it
 * cannot carry (files and audio, images by file_id) are left out; all are named in the warnings.
 * `sources`, when given, gets for each message the index of the last item it was made from.
 */
export function convertItemsToMessages(
  items: readonly StateItem[],
  warnings: ResponseWarnings,
  sources?: Map<Message, number>,
  files?: FileResolver,
  /** The target that made each item, by index, where only it can read the item back (StoredItem.origin). */
  origins?: readonly (string | undefined)[],
  /**
   * How many of the first items are earlier turns tandem keeps (the stored history), not the
   * request's own input: their images are marked so (ImagePart.fromHistory), for a target that reads none.
   */
  earlier = 0,
): Message[] {
  const messages: Message[] = [];
  let index = -1;
  const push = (message: Message): void => {
    messages.push(message);
    sources?.set(message, index);
  };
  const callNames = new Map<string, string>();
  /** `mcp_approval_request` items by id, for the decision that answers one. */
  const approvals = new Map<string, StateItem>();
  /** The assistant message later calls of the same turn join, until anything else comes between. */
  let turn: AssistantMessage | undefined;
  /** Reasoning items read since the last turn began: the reasoning of the assistant turn after them. */
  let reasoning: ReasoningPart[] = [];
  const withReasoning = (message: AssistantMessage): void => {
    if (reasoning.length === 0) return;
    message.reasoning = [...(message.reasoning ?? []), ...reasoning];
    reasoning = [];
  };
  for (const item of items) {
    index++;
    // Reasoning no assistant turn follows (a turn that failed as it thought) has no turn to go with.
    if (reasoning.length > 0 && item.type !== "reasoning" && !startsAssistantTurn(item)) {
      reasoning = [];
      warnings.add("reasoning-alone", "reasoning items with no answer after them were left out");
    }
    switch (item.type) {
      case "message": {
        const role = item.role;
        const parts = Array.isArray(item.content) ? (item.content as PartFields[]) : [];
        if (role === "assistant") {
          turn = { role: "assistant", content: textParts(parts) };
          withReasoning(turn);
          push(turn);
        } else if (role === "system" || role === "developer") {
          turn = undefined;
          push({ role: "system", content: joinText(parts) });
        } else {
          turn = undefined;
          push({ role: "user", content: userParts(parts, item.id, warnings, files, index < earlier) });
        }
        break;
      }
      case "function_call":
      case "custom_tool_call": {
        // A call of a namespaced tool (Codex's MCP tools) under the flat name its tool is given; a
        // custom tool's input as the arguments of the function it is offered as (custom-tools.ts).
        const name =
          typeof item.namespace === "string" ? namespacedToolName(item.namespace, String(item.name)) : String(item.name);
        const args =
          item.type === "custom_tool_call" ? customToolArguments(String(item.input ?? "")) : String(item.arguments ?? "");
        const call = { id: String(item.call_id), name, arguments: args };
        callNames.set(call.id, call.name);
        if (!turn) {
          turn = { role: "assistant", content: [] };
          push(turn);
        }
        withReasoning(turn);
        turn.toolCalls = [...(turn.toolCalls ?? []), call];
        sources?.set(turn, index);
        break;
      }
      case "function_call_output":
      case "custom_tool_call_output": {
        turn = undefined;
        const callId = String(item.call_id);
        const output = item.output;
        const content: ContentPart[] =
          typeof output === "string"
            ? [{ type: "text", text: output }]
            : userParts(Array.isArray(output) ? (output as PartFields[]) : [], item.id, warnings, files, index < earlier);
        const name = callNames.get(callId);
        push(
          name === undefined
            ? { role: "tool", toolCallId: callId, content }
            : { role: "tool", toolCallId: callId, name, content },
        );
        break;
      }
      case "mcp_call":
      case "mcp_approval_response": {
        // A call tandem's tool loop made (or the client declined): the model's call and its outcome.
        turn = undefined;
        const call = hostedCall(item, approvals);
        if (call === undefined) break;
        push({ role: "assistant", content: [], toolCalls: [{ id: call.id, name: call.name, arguments: call.arguments }] });
        push({ role: "tool", toolCallId: call.id, name: call.name, content: [{ type: "text", text: call.outcome }] });
        break;
      }
      case "file_search_call": {
        // A search tandem's tool loop made: the model's call and what it read back (when the item kept its results).
        turn = undefined;
        const queries = Array.isArray(item.queries) ? item.queries.filter((q) => typeof q === "string") : [];
        push({
          role: "assistant",
          content: [],
          toolCalls: [{ id: item.id, name: FILE_SEARCH_FUNCTION, arguments: JSON.stringify({ queries }) }],
        });
        push({
          role: "tool",
          toolCallId: item.id,
          name: FILE_SEARCH_FUNCTION,
          content: [{ type: "text", text: fileSearchOutcome(item) }],
        });
        break;
      }
      case "mcp_approval_request":
        approvals.set(item.id, item);
        break;
      case "mcp_list_tools":
        // What a server offered: the tool loop reads it (hosted-tools-request.ts); the model is given the tools themselves.
        break;
      case "configuration_update":
        // A change of the request's settings, not a turn: applied to the request (configuration-updates.ts).
        break;
      case "reasoning": {
        // Reasoning belongs to the turn it came from; it does not end that turn.
        const part = reasoningPart(item, origins?.[index]);
        if (part !== undefined) reasoning.push(part);
        break;
      }
      default:
        turn = undefined;
        warnings.add(
          `item:${item.type}`,
          `input items of type '${headerSafe(item.type)}' were left out: tandem cannot carry them to its targets`,
        );
    }
  }
  if (reasoning.length > 0) warnings.add("reasoning-alone", "reasoning items with no answer after them were left out");
  return messages;
}

/**
 * The item types convertItemsToMessages reads (some only to apply them: a reasoning item to the turn
 * after it, a configuration update to the request): any other is left out of a canonical request.
 */
const CONVERTED_ITEM_TYPES: ReadonlySet<string> = new Set([
  "message",
  "function_call",
  "custom_tool_call",
  "function_call_output",
  "custom_tool_call_output",
  "mcp_call",
  "mcp_approval_response",
  "file_search_call",
  "mcp_approval_request",
  "mcp_list_tools",
  "configuration_update",
  "reasoning",
]);

/** Whether an item crosses to a canonical request (see CONVERTED_ITEM_TYPES); one that does not reaches only a Responses-native target. */
export function convertsItem(item: StateItem): boolean {
  return CONVERTED_ITEM_TYPES.has(item.type);
}

/** Items that begin (or join) an assistant turn, which the reasoning before them belongs to. */
function startsAssistantTurn(item: StateItem): boolean {
  return (
    (item.type === "message" && item.role === "assistant") || item.type === "function_call" || item.type === "custom_tool_call"
  );
}

/**
 * A reasoning item as canonical reasoning: its summary, and what only its maker reads, with the
 * maker. Without a known maker (an item the client sent), its opaque field could be anyone's: only
 * the text goes.
 */
function reasoningPart(item: StateItem, origin: string | undefined): ReasoningPart | undefined {
  const summary = Array.isArray(item.summary) ? (item.summary as PartFields[]) : [];
  const text = summary
    .map((part) => (typeof part.text === "string" ? part.text : ""))
    .filter((t) => t !== "")
    .join("\n\n");
  const sealed = typeof item.encrypted_content === "string" && item.encrypted_content !== "" ? item.encrypted_content : undefined;
  if (origin !== undefined && sealed !== undefined) {
    const signature = thinkingSignature(item);
    if (signature !== undefined) return { type: "reasoning", text, signature, producer: origin };
    const redacted = redactedThinking(item);
    if (redacted !== undefined) return { type: "reasoning", text: "", redactedData: redacted, producer: origin };
    return { type: "reasoning", text, encryptedContent: sealed, producer: origin };
  }
  if (text === "" && sealed === undefined) return undefined;
  // Sealed by an upstream tandem does not know: no target is given it, and it is named as left out.
  return sealed === undefined ? { type: "reasoning", text } : { type: "reasoning", text, encryptedContent: sealed };
}

/** What the model reads of a stored `file_search_call`: its results, when the response kept them (`include`). */
function fileSearchOutcome(item: StateItem): string {
  if (item.status === "failed") return "Error: the search failed.";
  if (!Array.isArray(item.results)) return "(The results of this search were not kept; search again to read them.)";
  // As the tool loop gave them to the model (harness/tools/file-search.ts).
  return fileSearchText(
    (item.results as Array<{ filename?: unknown; text?: unknown }>).map((r) => ({
      filename: String(r.filename),
      text: String(r.text),
    })),
  );
}

/**
 * An `mcp_call` item as the model's call and what it read back, or an `mcp_approval_response` that
 * declined a call (the model is told); an approval that was given is followed by its `mcp_call`.
 */
function hostedCall(
  item: StateItem,
  approvals: ReadonlyMap<string, StateItem>,
): { id: string; name: string; arguments: string; outcome: string } | undefined {
  if (item.type === "mcp_call") {
    const error = mcpCallError(item.error);
    return {
      id: item.id,
      name: hostedToolName(String(item.server_label), String(item.name)),
      arguments: typeof item.arguments === "string" ? item.arguments : "{}",
      outcome: error !== undefined ? `Error: ${error}` : typeof item.output === "string" ? item.output : "",
    };
  }
  if (item.approve !== false) return undefined;
  const request = approvals.get(String(item.approval_request_id));
  if (request === undefined) return undefined;
  const reason = typeof item.reason === "string" && item.reason !== "" ? `: ${item.reason}` : ".";
  return {
    id: request.id,
    name: hostedToolName(String(request.server_label), String(request.name)),
    arguments: typeof request.arguments === "string" ? request.arguments : "{}",
    outcome: `Error: The user declined this call${reason}`,
  };
}

/**
 * An `mcp_call`'s error as the model reads it: text (tandem's own items, openai-node 6), or OpenAI's
 * McpToolCallError object (openai-node 7: a protocol or HTTP error with its code and message, a tool
 * execution error with the tool's content). Undefined when the call did not fail.
 */
function mcpCallError(error: unknown): string | undefined {
  if (typeof error === "string") return error;
  if (error === null || typeof error !== "object") return undefined;
  const { type, code, message, content } = error as { type?: unknown; code?: unknown; message?: unknown; content?: unknown };
  if (type === "mcp_tool_execution_error") {
    const texts = Array.isArray(content)
      ? content.flatMap((block) => (typeof block?.text === "string" ? [block.text as string] : []))
      : [];
    return texts.length > 0 ? texts.join("\n") : typeof content === "string" ? content : JSON.stringify(content ?? null);
  }
  const kind = type === "http_error" ? "HTTP error" : type === "mcp_protocol_error" ? "MCP protocol error" : "error";
  const text = typeof message === "string" ? message : JSON.stringify(error);
  return typeof code === "number" ? `${kind} ${code}: ${text}` : `${kind}: ${text}`;
}

/** An `input_image`'s `detail` when it is one of OpenAI's (ImageDetail), else none. */
function imageDetail(detail: unknown): ImageDetail | undefined {
  return detail === "low" || detail === "high" || detail === "auto" || detail === "original" ? detail : undefined;
}

function textParts(parts: readonly PartFields[]): ContentPart[] {
  const text = joinText(parts);
  return text === "" ? [] : [{ type: "text", text }];
}

/** Text of every text-like part (`input_text`, `output_text`, `refusal`), joined. */
function joinText(parts: readonly PartFields[]): string {
  let out = "";
  for (const part of parts) {
    if (typeof part.text === "string") out += part.text;
    else if (part.type === "refusal" && typeof part.refusal === "string") out += part.refusal;
  }
  return out;
}

function userParts(
  parts: readonly PartFields[],
  itemId: string,
  warnings: ResponseWarnings,
  files: FileResolver | undefined,
  /** The item is of the stored history: its images are marked so (ImagePart.fromHistory). */
  fromHistory: boolean,
): ContentPart[] {
  const out: ContentPart[] = [];
  for (const part of parts) {
    // A file tandem has (by file_id) or was sent (file_data): as text, an image or a document.
    const file = files && fileOfPart(part as Record<string, unknown>, files);
    if (file !== undefined) {
      const detail = imageDetail(part.detail);
      for (const made of filePartsOf(file, detail))
        out.push(fromHistory && made.type === "image" ? { ...made, fromHistory } : made);
      continue;
    }
    if (part.type === "input_image") {
      if (typeof part.image_url !== "string") {
        warnings.add(
          "image:file_id",
          "images without an image_url were left out (only a Responses-native upstream reads file_id)",
        );
        continue;
      }
      const source = imageSource(part.image_url, `${itemId}.image_url`);
      const detail = imageDetail(part.detail);
      out.push({ type: "image", source, ...(detail !== undefined && { detail }), ...(fromHistory && { fromHistory }) });
    } else if (typeof part.text === "string") {
      out.push({ type: "text", text: part.text });
    } else if (part.type === "refusal" && typeof part.refusal === "string") {
      out.push({ type: "text", text: part.refusal });
    } else if (part.type === "input_file" && typeof part.file_id === "string" && files !== undefined) {
      // Not a file tandem has (never uploaded here, or deleted since): the id can only be an upstream's.
      warnings.add(
        "part:input_file:file_id",
        "input_file parts were left out: tandem has no file of their file_id (deleted, or an upstream's own), and only a Responses-native upstream can be sent an upstream's",
      );
    } else if (part.type === "input_file" || part.type === "input_audio") {
      // Such parts of the new input are wire-only (check-carried-part.ts): here they come from a stored history.
      warnings.add(`part:${part.type}`, `${part.type} parts were left out: only a Responses-native upstream can be sent them`);
    } else {
      warnings.add(`part:${String(part.type)}`, `content parts of type '${headerSafe(String(part.type))}' were left out`);
    }
  }
  return out;
}
