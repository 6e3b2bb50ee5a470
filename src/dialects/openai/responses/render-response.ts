import type {
  ChatResult,
  FileSearchResult,
  FinishReason,
  GatewayError,
  HostedToolItem,
  ToolCall,
  Usage,
} from "../../../core/index.js";
import { answerOrder, objectSchema, TOOL_LIMIT_FINISH } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { customToolInput } from "../custom-tools.js";
import { itemId, renderMcpCallError } from "../state/index.js";
import { type FileCitation, fileCitations } from "./file-citations.js";
import type { NamespacedTool } from "./namespaced-tools.js";
import type { ResponseEcho } from "./parse-responses-request.js";
import { type OutputTextLogprob, outputTextLogprobs } from "./render-logprobs.js";

export type ResponseStatus = "queued" | "in_progress" | "completed" | "incomplete" | "failed";

/** The usage object of a Response (`ResponseUsage`). */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** What a Response says besides its echoed request fields. */
export interface ResponseState {
  status: ResponseStatus;
  output: StateItem[];
  usage: Usage | undefined;
  error?: GatewayError | undefined;
  incompleteReason?: "max_output_tokens" | "content_filter" | undefined;
}

export interface ResponseIdentity {
  id: string;
  createdAt: number;
  /** The target that answered (`provider/model`), as the other dialects report it. */
  model: string;
}

/**
 * The Response object of the API reference, fields in the order api.openai.com sends them.
 * `output_text` is not on the wire: the SDKs compute it from `output`. Where api.openai.com writes
 * `"usage": null` and `"user": null`, tandem follows the published spec and the SDK's types and
 * leaves them out.
 */
export function renderResponse(identity: ResponseIdentity, echo: ResponseEcho, state: ResponseState): Record<string, unknown> {
  const done = state.status === "completed" || state.status === "incomplete";
  return {
    id: identity.id,
    object: "response",
    created_at: identity.createdAt,
    status: state.status,
    // Required (nullable) since openai-node 7: the access program a model ran under; null is the
    // API's "no program chosen, standard" and the only truthful value for any target tandem runs.
    access_programs: null,
    background: echo.background,
    completed_at: done ? Math.floor(Date.now() / 1000) : null,
    error: state.error ? responseError(state.error) : null,
    incomplete_details: state.incompleteReason ? { reason: state.incompleteReason } : null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    max_tool_calls: echo.max_tool_calls,
    model: identity.model,
    output: state.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: echo.previous_response_id,
    conversation: echo.conversation,
    prompt_cache_key: echo.prompt_cache_key,
    reasoning: echo.reasoning,
    safety_identifier: echo.safety_identifier,
    service_tier: echo.service_tier,
    store: echo.store,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_logprobs: echo.top_logprobs,
    top_p: echo.top_p,
    truncation: echo.truncation,
    // Left out, not null, while there is none: the spec's `usage` and `user` are not nullable, and
    // the SDK's types are `usage?: ResponseUsage`, `user?: string`.
    ...(state.usage && { usage: renderResponsesUsage(state.usage) }),
    ...(echo.user !== null && { user: echo.user }),
    metadata: echo.metadata,
  };
}

export function renderResponsesUsage(usage: Usage): ResponsesUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: {
      cached_tokens: usage.cachedInputTokens ?? 0,
      cache_write_tokens: usage.cacheWriteInputTokens ?? 0,
    },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/**
 * A failed Response's `error`: OpenAI's codes here are a closed set (`ResponseError.code`), of which
 * only a rate limit and a server error describe what can go wrong between tandem and a target.
 */
export function responseError(error: GatewayError): { code: string; message: string } {
  return { code: error.code === "rate_limited" ? "rate_limit_exceeded" : "server_error", message: error.message };
}

/** `ResponseError.code`'s values (the spec's enum, the SDK's union): a failed Response's code is one of them. */
const RESPONSE_ERROR_CODES: ReadonlySet<string> = new Set([
  "server_error",
  "rate_limit_exceeded",
  "invalid_prompt",
  "data_residency_mismatch",
  "bio_policy",
  // openai-node 7.
  "misalignment_policy_violation",
  "vector_store_timeout",
  "invalid_image",
  "invalid_image_format",
  "invalid_base64_image",
  "invalid_image_url",
  "image_too_large",
  "image_too_small",
  "image_parse_error",
  "image_content_policy_violation",
  "invalid_image_mode",
  "image_file_too_large",
  "unsupported_image_media_type",
  "empty_image_file",
  "failed_to_download_image",
  "image_file_not_found",
]);

/** An OpenAI error code as a failed Response's `error.code`: itself when ResponseError has it, else `server_error`. */
export function responseErrorCode(code: string): string {
  return RESPONSE_ERROR_CODES.has(code) ? code : "server_error";
}

/**
 * How an answer's finish reason reads as a Response status. An answer the tool loop ended at its
 * limit is completed: its failed `mcp_call` says what was not run, as OpenAI ignores calls past
 * `max_tool_calls` (not the output tokens' limit).
 */
export function statusFor(reason: FinishReason, raw?: string): Pick<ResponseState, "status" | "incompleteReason"> {
  if (reason === "length" && raw === TOOL_LIMIT_FINISH) return { status: "completed" };
  if (reason === "length") return { status: "incomplete", incompleteReason: "max_output_tokens" };
  if (reason === "content_filter") return { status: "incomplete", incompleteReason: "content_filter" };
  return { status: "completed" };
}

/** A message's content part: its text (`output_text`) or the model's refusal (`refusal`). */
export type MessagePart = ReturnType<typeof outputTextPart> | RefusalPart;
export interface RefusalPart {
  type: "refusal";
  refusal: string;
}

/** An assistant message; `content`: its text as one `output_text` part, or the parts it has. */
export function messageItem(
  id: string,
  content: string | readonly MessagePart[],
  status: "in_progress" | "completed" | "incomplete",
): StateItem {
  return {
    id,
    type: "message",
    status,
    content: status === "in_progress" ? [] : typeof content === "string" ? [outputTextPart(content)] : [...content],
    role: "assistant",
  };
}

/**
 * A whole answer's message parts: its text, and its refusal where the model refused (OpenAI's
 * `refusal` part). `logprobs`: the client asked for them (`include: ["message.output_text.logprobs"]`),
 * so the text part has the tokens the target reported; otherwise it has none, as OpenAI's.
 */
export function messageParts(result: Pick<ChatResult, "text" | "refusal" | "logprobs">, logprobs = false): MessagePart[] {
  const tokens = logprobs && result.logprobs ? outputTextLogprobs(result.logprobs) : [];
  if (!result.refusal) return [outputTextPart(result.text, tokens)];
  const parts: MessagePart[] = [];
  if (result.refusal.text !== "") parts.push(outputTextPart(result.refusal.text, tokens));
  parts.push({ type: "refusal", refusal: result.refusal.refusal });
  return parts;
}

/** An `output_text` part; `logprobs` is always there, empty unless the client asked for them. */
export function outputTextPart(
  text: string,
  logprobs: OutputTextLogprob[] = [],
  annotations: FileCitation[] = [],
): { type: "output_text"; annotations: FileCitation[]; logprobs: OutputTextLogprob[]; text: string } {
  return { type: "output_text", annotations, logprobs, text };
}

/**
 * How a request's tools are named back to the client: a call of a namespaced function goes back with
 * its own name and `namespace`, a call of a custom tool as a `custom_tool_call` (custom-tools.ts).
 */
export interface ClientToolNames {
  readonly namespaced: ReadonlyMap<string, NamespacedTool>;
  readonly custom: ReadonlySet<string>;
}

/** A new id for the item of a call of `name`: `ctc_…` for a custom tool's, `fc_…` for a function's. */
export function callItemId(name: string, tools?: ClientToolNames): string {
  return itemId(tools?.custom.has(name) ? "ctc_" : "fc_");
}

/**
 * The output item of the model's call: a `function_call`, or a `custom_tool_call` whose input is
 * what the model gave the function a custom tool was offered as.
 */
export function functionCallItem(
  id: string,
  call: ToolCall,
  status: "in_progress" | "completed" | "incomplete",
  tools?: ClientToolNames,
): StateItem {
  const qualified = tools?.namespaced.get(call.name);
  if (tools?.custom.has(call.name)) {
    return {
      id,
      type: "custom_tool_call",
      status,
      call_id: call.id,
      name: qualified?.name ?? call.name,
      ...(qualified !== undefined && { namespace: qualified.namespace }),
      input: customToolInput(call.arguments),
    };
  }
  return {
    id,
    type: "function_call",
    status,
    arguments: call.arguments,
    call_id: call.id,
    name: qualified?.name ?? call.name,
    ...(qualified !== undefined && { namespace: qualified.namespace }),
  };
}

/**
 * A reasoning output item with the model's readable reasoning as its summary (OpenAI's shape:
 * `summary` parts of type `summary_text`); `undefined` text: none (still streaming, or a redacted block).
 */
export function reasoningItem(id: string, text: string | undefined): StateItem {
  return { id, type: "reasoning", summary: text === undefined ? [] : [{ type: "summary_text", text }] };
}

/**
 * A whole answer's output items, in the order the answer came, as the stream has them: a reasoning
 * item a block the target gave (or one for reasoning read without blocks), its text as messages (one
 * a run between reasoning, tools tandem ran and calls; one empty message when there is nothing else),
 * and its calls. A lone message has its refusal part and, when asked, its tokens' logprobs (see
 * messageParts); text cut by tools tandem ran cites the files a search before it names.
 */
export function outputItems(
  result: ChatResult,
  status: ResponseStatus,
  logprobs = false,
  tools?: ClientToolNames,
  /** `include: ["file_search_call.results"]`. */
  fileSearchResults = false,
): StateItem[] {
  const itemStatus = status === "incomplete" ? "incomplete" : "completed";
  const items: StateItem[] = [];
  const order = answerOrder(result);
  const runs = order.filter((piece) => piece.type === "text").length;
  // A lone message, with no tool tandem ran, keeps the parts a whole text has.
  const whole = runs <= 1 && !order.some((piece) => piece.type === "hosted");
  const found: FileSearchResult[] = [];
  let text = "";
  // The text so far as a message: done when reasoning or a tool tandem ran follows it, else as the answer is.
  const flush = (status: "completed" | "incomplete") => {
    if (text === "") return;
    const parts = whole ? messageParts(result, logprobs) : [outputTextPart(text, [], fileCitations(text, found))];
    items.push(messageItem(itemId("msg_"), parts, status));
    text = "";
  };
  // Reasoning read without blocks (an answer made by hand) comes first, as one item.
  if ((result.reasoningBlocks ?? []).length === 0 && result.reasoning !== undefined && result.reasoning !== "")
    items.push(reasoningItem(itemId("rs_"), result.reasoning));
  for (const piece of order) {
    switch (piece.type) {
      case "reasoning": {
        // Anthropic's thinking and redacted_thinking blocks each keep their own seal (thinking-signature.ts).
        const block = result.reasoningBlocks?.[piece.block];
        if (block === undefined) break;
        flush("completed");
        items.push(reasoningItem(itemId("rs_"), block.text === "" ? undefined : block.text));
        break;
      }
      case "text":
        text += result.text.slice(piece.from, piece.to);
        break;
      case "hosted": {
        const hosted = result.hosted?.[piece.item];
        if (hosted === undefined) break;
        flush("completed");
        items.push(hostedItem(hosted.item, fileSearchResults));
        if (hosted.item.kind === "file-search" && hosted.item.results !== undefined) found.push(...hosted.item.results);
        break;
      }
      case "tool-call": {
        // A call whose arguments parse stands, whatever cut the answer after it; one whose arguments do not,
        // or that has none (cut before its first character, or a tool without parameters), has the answer's status.
        const call = result.toolCalls[piece.call];
        if (call === undefined) break;
        flush(itemStatus);
        const callStatus = call.arguments !== "" && isJsonArguments(call.arguments) ? "completed" : itemStatus;
        items.push(functionCallItem(callItemId(call.name, tools), call, callStatus, tools));
        break;
      }
    }
  }
  flush(itemStatus);
  // An answer with neither text nor calls is still one (empty) message, as OpenAI's.
  if (!order.some((piece) => piece.type !== "reasoning"))
    items.push(messageItem(itemId("msg_"), messageParts(result, logprobs), itemStatus));
  return items;
}

/**
 * A tool tandem ran for the model, as the Responses API's item for it (`mcp_list_tools`, `mcp_call`,
 * `mcp_approval_request`, `file_search_call`: its `results` only when the request's `include` asked
 * for them, as OpenAI's; null otherwise).
 */
export function hostedItem(item: HostedToolItem, fileSearchResults = false): StateItem {
  switch (item.kind) {
    case "list-tools":
      return {
        id: item.id,
        type: "mcp_list_tools",
        server_label: item.server,
        tools: item.tools.map((tool) => ({
          name: tool.name,
          description: tool.description ?? null,
          // Required (spec and SDK): for a tool its server listed without one, the schema the model was offered.
          input_schema: tool.inputSchema ?? objectSchema(undefined),
          annotations: tool.annotations ?? null,
        })),
        error: item.error ?? null,
      };
    case "call":
      return {
        id: item.id,
        type: "mcp_call",
        status: item.status,
        approval_request_id: item.approvalRequestId ?? null,
        arguments: item.status === "in_progress" ? "" : item.arguments,
        error: item.error !== undefined ? renderMcpCallError(item.failure, item.error) : null,
        name: item.name,
        output: item.output ?? null,
        server_label: item.server,
      };
    case "approval-request":
      return { id: item.id, type: "mcp_approval_request", arguments: item.arguments, name: item.name, server_label: item.server };
    case "file-search":
      return {
        id: item.id,
        type: "file_search_call",
        status: item.status,
        queries: item.queries,
        results:
          fileSearchResults && item.results !== undefined
            ? item.results.map((r) => ({
                file_id: r.fileId,
                filename: r.filename,
                score: r.score,
                text: r.text,
                attributes: r.attributes ?? {},
              }))
            : null,
      };
  }
}

/** Whether a call's arguments parse (as any JSON): a call a token limit cut off has arguments that do not. */
export function isJsonArguments(args: string): boolean {
  if (args === "") return true;
  try {
    JSON.parse(args);
    return true;
  } catch {
    return false;
  }
}
