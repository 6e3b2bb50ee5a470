import { makeId } from "../../../core/ids.js";
import type { StateItem, StoredItem } from "../../../core/state.js";
import { typeOf } from "./parse-metadata.js";
import { invalidParam } from "./state-api-error.js";

const ROLES = new Set(["user", "assistant", "system", "developer"]);
const STATUSES = new Set(["in_progress", "completed", "incomplete"]);

/** The id prefixes OpenAI gives the items it stores, for items a client sent without an id. */
const ID_PREFIX: Record<string, string> = {
  message: "msg_",
  function_call: "fc_",
  function_call_output: "fco_",
  reasoning: "rs_",
  custom_tool_call: "ctc_",
  custom_tool_call_output: "ctco_",
  mcp_list_tools: "mcpl_",
  mcp_call: "mcp_",
  mcp_approval_request: "mcpr_",
  mcp_approval_response: "mcpa_",
  file_search_call: "fs_",
};

/**
 * One entry of a request's `input`: an item in the API's stored shape (and, when the client sent it as
 * an object, that object as it came: a Responses-native upstream is sent it so), or a reference to a
 * stored one.
 */
export type InputEntry =
  | { kind: "item"; item: StateItem; sent?: Record<string, unknown> }
  | { kind: "reference"; id: string; param: string };

/** Item ids as OpenAI makes them: a type prefix and 48 random characters. */
export function itemId(prefix: "msg_" | "fc_" | "ctc_" | "fco_" | "rs_" | "item_"): string {
  return makeId(prefix, 48);
}

export interface NormalizeOptions {
  /** Whether `item_reference`s (and bare `{id}`s) are taken, as entries to resolve; else a 400. Default false. */
  references?: boolean;
  /** A further check of each content part (a message's, or a function call output's), for what a route cannot carry. */
  checkPart?: (part: Record<string, unknown>, param: string) => void;
}

/**
 * The one input-item normaliser, for POST /v1/responses' `input` and the Conversations API's items:
 * items as a client sends them (ResponseInputItem: easy messages `{role, content: "text"}`, messages
 * with parts, function calls and their outputs, reasoning, ...) turned into items as OpenAI stores
 * and lists them: each with an id (`msg_…`, `fc_…`, `fco_…`, `rs_…`) and a status, a message's text
 * as `input_text` parts (`output_text` for the assistant's). Kinds tandem does not know are kept as
 * they came (with an id), so nothing a client stores is lost and a native Responses upstream gets
 * them. A bad item is a 400 naming its field (`input[2].content[0].image_url`) with OpenAI's code.
 */
export function normalizeInputItems(value: unknown, param: string, maxItems: number): StoredItem[] {
  if (!Array.isArray(value)) {
    throw invalidParam(
      param,
      `Invalid type for '${param}': expected an array, but got ${typeOf(value)} instead.`,
      "invalid_type",
    );
  }
  if (value.length > maxItems) {
    throw invalidParam(
      param,
      `Invalid '${param}': array too long. Expected an array with maximum length ${maxItems}, but got an array with length ${value.length} instead.`,
      "array_above_max_length",
    );
  }
  return value.map((raw, i) => ({ item: normalizeInputItem(raw, `${param}[${i}]`) }));
}

/** A request's `input`: a string is one user message; a list is checked item by item. */
export function normalizeInputEntries(
  input: string | readonly unknown[] | null | undefined,
  options: NormalizeOptions = {},
): InputEntry[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") {
    return [
      {
        kind: "item",
        item: {
          id: itemId("msg_"),
          type: "message",
          role: "user",
          content: [{ type: "input_text", text: input }],
          status: "completed",
        },
      },
    ];
  }
  return input.map((raw, i) => normalizeInputEntry(raw, `input[${i}]`, options));
}

export function normalizeInputEntry(raw: unknown, param: string, options: NormalizeOptions = {}): InputEntry {
  const item = object(raw, param);
  if (options.references && (item.type === "item_reference" || (item.type == null && item.role === undefined && "id" in item))) {
    if (typeof item.id !== "string" || item.id === "") {
      throw invalidParam(`${param}.id`, `Missing required parameter: '${param}.id'.`, "missing_required_parameter");
    }
    return { kind: "reference", id: item.id, param: `${param}.id` };
  }
  return { kind: "item", item: normalizeInputItem(item, param, options), sent: item };
}

export function normalizeInputItem(raw: unknown, param: string, options: NormalizeOptions = {}): StateItem {
  let item = object(raw, param);
  const type = item.type ?? (item.role !== undefined ? "message" : undefined);
  if (typeof type !== "string" || type === "") {
    throw invalidParam(`${param}.type`, `Missing required parameter: '${param}.type'.`, "missing_required_parameter");
  }
  switch (type) {
    case "message":
      return message(item, param, options);
    case "function_call":
      requireStrings(item, param, ["call_id", "name", "arguments"]);
      return withIdAndStatus(item, type, param);
    case "custom_tool_call":
      requireStrings(item, param, ["call_id", "name", "input"]);
      return withIdAndStatus(item, type, param);
    case "function_call_output":
    case "custom_tool_call_output":
      if (type === "function_call_output" && item.call_id == null && typeof item.name === "string" && item.name !== "") {
        // openai-node 7: a function's output may name its tool instead of its call (paired in
        // check-tool-history.ts with the latest call of that tool still waiting for one).
        const { call_id: _none, ...named } = item;
        item = named;
      } else requireStrings(item, param, ["call_id"]);
      if (typeof item.output !== "string" && !Array.isArray(item.output)) {
        throw invalidParam(
          `${param}.output`,
          `Invalid type for '${param}.output': expected a string or an array, but got ${typeOf(item.output)} instead.`,
          "invalid_type",
        );
      }
      if (Array.isArray(item.output)) {
        const output = item.output.map((raw, i) => {
          const at = `${param}.output[${i}]`;
          const part = object(raw, at);
          options.checkPart?.(part, at);
          return outputPart(part);
        });
        return withIdAndStatus({ ...item, output }, type, param);
      }
      return withIdAndStatus(item, type, param);
    case "reasoning":
      if (item.summary != null && !Array.isArray(item.summary)) {
        throw invalidParam(
          `${param}.summary`,
          `Invalid type for '${param}.summary': expected an array, but got ${typeOf(item.summary)} instead.`,
          "invalid_type",
        );
      }
      return { ...item, type, id: optionalId(item, param) ?? itemId("rs_"), summary: item.summary ?? [] };
    case "mcp_approval_response":
      requireStrings(item, param, ["approval_request_id"]);
      if (typeof item.approve !== "boolean") {
        throw invalidParam(
          `${param}.approve`,
          `Invalid type for '${param}.approve': expected a boolean, but got ${typeOf(item.approve)} instead.`,
          "invalid_type",
        );
      }
      return keptAsSent(item, type, param);
    case "item_reference":
      // A reference names an item stored elsewhere (a response's output); conversations hold items
      // themselves, so the client sends the item instead.
      throw invalidParam(
        `${param}.type`,
        `Item references are not supported here: send the item itself ('${param}').`,
        "unsupported_value",
      );
    default:
      return keptAsSent(item, type, param);
  }
}

function message(item: Record<string, unknown>, param: string, options: NormalizeOptions): StateItem {
  const role = item.role;
  if (typeof role !== "string" || !ROLES.has(role)) {
    throw invalidParam(
      `${param}.role`,
      `Invalid value: '${String(role)}'. Supported values are: 'user', 'assistant', 'system', and 'developer'.`,
    );
  }
  const assistant = role === "assistant";
  let content: unknown[];
  if (typeof item.content === "string") {
    content = [textPart(item.content, assistant)];
  } else if (Array.isArray(item.content)) {
    content = item.content.map((part, i) => {
      const normalized = contentPart(part, `${param}.content[${i}]`, assistant);
      options.checkPart?.(normalized, `${param}.content[${i}]`);
      return normalized;
    });
  } else {
    throw invalidParam(
      `${param}.content`,
      `Invalid type for '${param}.content': expected a string or an array, but got ${typeOf(item.content)} instead.`,
      "invalid_type",
    );
  }
  const { id: _id, type: _type, status: _status, role: _role, content: _content, ...rest } = item;
  return {
    ...rest,
    id: optionalId(item, param) ?? makeId("msg_", 48),
    type: "message",
    status: status(item, param),
    content,
    role,
  };
}

function textPart(text: string, assistant: boolean): Record<string, unknown> {
  return assistant ? { type: "output_text", text, annotations: [], logprobs: [] } : { type: "input_text", text };
}

function contentPart(raw: unknown, param: string, assistant: boolean): Record<string, unknown> {
  const part = object(raw, param);
  switch (part.type) {
    case "input_text":
    case "output_text":
    case "text":
      requireStrings(part, param, ["text"]);
      if (part.type === "input_text") return part;
      if (part.type === "text") return textPart(part.text as string, assistant);
      // OutputTextContent requires both arrays (the spec; the SDK reads them), as a Response's own have.
      return { ...part, annotations: part.annotations ?? [], logprobs: part.logprobs ?? [] };
    case "refusal":
      requireStrings(part, param, ["refusal"]);
      return part;
    case "input_image":
      if (typeof part.image_url !== "string" && typeof part.file_id !== "string") {
        throw invalidParam(
          param,
          `Invalid '${param}': an input_image needs 'image_url' or 'file_id'.`,
          "missing_required_parameter",
        );
      }
      return { ...part, detail: part.detail ?? "auto" };
    default:
      if (typeof part.type !== "string") {
        throw invalidParam(`${param}.type`, `Missing required parameter: '${param}.type'.`, "missing_required_parameter");
      }
      return part;
  }
}

/**
 * A part of a tool call's output list as OpenAI lists it: the output item's parts are
 * ResponseInputText, ResponseInputImage and ResponseInputFile, and ResponseInputImage requires
 * `detail` (optional when sent), so an image sent without one is stored `auto`, as a message's is.
 */
function outputPart(part: Record<string, unknown>): Record<string, unknown> {
  return part.type === "input_image" ? { ...part, detail: part.detail ?? "auto" } : part;
}

/** An item kept as the client sent it, with an id (OpenAI's prefix for its type) when it had none. */
function keptAsSent(item: Record<string, unknown>, type: string, param: string): StateItem {
  return { ...item, type, id: optionalId(item, param) ?? makeId(ID_PREFIX[type] ?? "item_", 48) };
}

function withIdAndStatus(item: Record<string, unknown>, type: string, param: string): StateItem {
  return { ...item, type, id: optionalId(item, param) ?? makeId(ID_PREFIX[type] ?? "item_", 48), status: status(item, param) };
}

function status(item: Record<string, unknown>, param: string): string {
  if (item.status === undefined || item.status === null) return "completed";
  if (typeof item.status !== "string" || !STATUSES.has(item.status)) {
    throw invalidParam(
      `${param}.status`,
      `Invalid value: '${String(item.status)}'. Supported values are: 'in_progress', 'completed', and 'incomplete'.`,
    );
  }
  return item.status;
}

function optionalId(item: Record<string, unknown>, param: string): string | undefined {
  if (item.id === undefined || item.id === null) return undefined;
  if (typeof item.id !== "string" || item.id === "") {
    throw invalidParam(
      `${param}.id`,
      `Invalid type for '${param}.id': expected a non-empty string, but got ${typeOf(item.id)} instead.`,
      "invalid_type",
    );
  }
  return item.id;
}

function requireStrings(item: Record<string, unknown>, param: string, fields: string[]): void {
  for (const field of fields) {
    if (item[field] === undefined) {
      throw invalidParam(`${param}.${field}`, `Missing required parameter: '${param}.${field}'.`, "missing_required_parameter");
    }
    if (typeof item[field] !== "string") {
      throw invalidParam(
        `${param}.${field}`,
        `Invalid type for '${param}.${field}': expected a string, but got ${typeOf(item[field])} instead.`,
        "invalid_type",
      );
    }
  }
}

function object(raw: unknown, param: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw invalidParam(param, `Invalid type for '${param}': expected an object, but got ${typeOf(raw)} instead.`, "invalid_type");
  }
  return raw as Record<string, unknown>;
}
