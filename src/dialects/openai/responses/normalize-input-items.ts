import type { z } from "zod";
import { GatewayError, makeId } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { formatPath } from "../../shared/index.js";
import { imageSource } from "../convert-from-openai-messages.js";
import {
  type ContentPartBody,
  functionCallItemSchema,
  functionCallOutputItemSchema,
  itemReferenceSchema,
  messageItemSchema,
  reasoningItemSchema,
} from "./responses-api.js";

/** One entry of a request's `input`: an item in the API's stored shape, or a reference to a stored one. */
export type InputEntry = { kind: "item"; item: StateItem } | { kind: "reference"; id: string; param: string };

/** Item ids as OpenAI makes them: a type prefix and 48 random characters. */
export function itemId(prefix: "msg_" | "fc_" | "fco_" | "rs_" | "item_"): string {
  return makeId(prefix, 48);
}

/**
 * A request's `input` -> items in the Responses API's own stored shapes, each with an id (OpenAI
 * gives input messages `msg_` ids): a string is one user message; message content given as a string
 * becomes `input_text` (or, for the assistant, `output_text`) parts. Each item is checked on its own
 * and a bad one is a 400 naming it (`input[2].content[0].image_url`); an item of a type tandem does
 * not know is kept as sent (a native Responses upstream may read it).
 */
export function normalizeInputItems(input: string | readonly unknown[] | null | undefined): InputEntry[] {
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
  return input.map((raw, i) => normalizeItem(raw, `input[${i}]`));
}

function normalizeItem(raw: unknown, at: string): InputEntry {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw invalid(at, "expected an object (a message or an item)");
  }
  const fields = raw as Record<string, unknown>;
  const type = fields.type;
  if (type === "message" || ((type === undefined || type === null) && "role" in fields)) {
    return { kind: "item", item: messageItem(check(messageItemSchema, raw, at), at) };
  }
  if (type === "item_reference" || ((type === undefined || type === null) && "id" in fields)) {
    return { kind: "reference", id: check(itemReferenceSchema, raw, at).id, param: `${at}.id` };
  }
  switch (type) {
    case "function_call": {
      const call = check(functionCallItemSchema, raw, at);
      return { kind: "item", item: { ...call, id: call.id ?? itemId("fc_"), status: call.status ?? "completed" } };
    }
    case "function_call_output": {
      const output = check(functionCallOutputItemSchema, raw, at);
      if (typeof output.output !== "string") {
        for (const [j, part] of output.output.entries()) checkPart(part, `${at}.output[${j}]`);
      }
      return { kind: "item", item: { ...output, id: output.id ?? itemId("fco_"), status: output.status ?? "completed" } };
    }
    case "reasoning": {
      const reasoning = check(reasoningItemSchema, raw, at);
      return { kind: "item", item: { ...reasoning, id: reasoning.id ?? itemId("rs_"), summary: reasoning.summary ?? [] } };
    }
    default: {
      if (typeof type !== "string" || type === "") throw invalid(`${at}.type`, "expected an item type");
      // Kept as sent; convertItemsToMessages names it in the warnings when it leaves it out.
      const id = typeof fields.id === "string" && fields.id !== "" ? fields.id : itemId("item_");
      return { kind: "item", item: { ...fields, id, type } };
    }
  }
}

type MessageBody = z.output<typeof messageItemSchema>;

function messageItem(message: MessageBody, at: string): StateItem {
  const assistant = message.role === "assistant";
  const content =
    typeof message.content === "string"
      ? [
          assistant
            ? { type: "output_text", text: message.content, annotations: [] }
            : { type: "input_text", text: message.content },
        ]
      : message.content.map((part, j) => {
          checkPart(part, `${at}.content[${j}]`);
          return part.type === "output_text" ? { ...part, annotations: part.annotations ?? [] } : part;
        });
  return {
    ...message,
    id: message.id ?? itemId("msg_"),
    type: "message",
    role: message.role,
    content,
    status: message.status ?? "completed",
  };
}

/** Parts tandem cannot carry are a 400 naming the part, as for chat completions. */
function checkPart(part: ContentPartBody | { type: string }, at: string): void {
  switch (part.type) {
    case "input_image": {
      const image = part as Extract<ContentPartBody, { type: "input_image" }>;
      if (image.image_url == null || image.image_url === "") {
        throw invalid(
          `${at}.image_url`,
          image.file_id != null
            ? "images by file_id are not supported (tandem has no Files API yet); send image_url as an https or data: URL"
            : "expected image_url (an https or data: URL)",
        );
      }
      imageSource(image.image_url, `${at}.image_url`);
      return;
    }
    case "input_file":
    case "input_audio":
      throw invalid(`${at}.type`, `content parts of type '${part.type}' are not supported; send input_text or input_image`);
    default:
      return;
  }
}

function check<S extends z.ZodType>(schema: S, raw: unknown, at: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue ? formatPath(issue.path) : "";
  const param = path === "" ? at : path.startsWith("[") ? `${at}${path}` : `${at}.${path}`;
  throw invalid(param, issue?.message ?? "invalid item");
}

function invalid(param: string, what: string): GatewayError {
  return new GatewayError("invalid_request", `Invalid value for '${param}': ${what}.`, { param });
}
