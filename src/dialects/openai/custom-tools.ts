import { z } from "zod";
import { formatPath, GatewayError, type ToolDefinition } from "../../core/index.js";

/**
 * OpenAI's custom tools (CustomTool: free-form text input, such as an `apply_patch` tool with a
 * Lark grammar) on the canonical path, where every tool takes a JSON object: a custom tool goes to
 * such a target as a function tool with one string parameter, `input`, and the model's call of it
 * comes back as a custom tool call whose input is that string. A grammar or text format cannot be
 * enforced by another wire: it goes in the function's description, for the model to follow.
 */

const formatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).loose(),
  z
    .object({
      type: z.literal("grammar"),
      syntax: z.enum(["lark", "regex"]),
      definition: z.string(),
    })
    .loose(),
]);

const customToolSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().nullish(),
    format: formatSchema.nullish(),
  })
  .loose();

/** A custom tool as a request gives it (the Responses API's CustomTool; chat's, in this shape, from parseChatCustomTool). */
export type CustomTool = z.output<typeof customToolSchema>;

/**
 * Chat completions' custom tool (`ChatCompletionCustomTool.custom`): the same fields, but its grammar
 * is nested, `{type: "grammar", grammar: {definition, syntax}}`, where the Responses API's is flat.
 */
const chatCustomToolSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().nullish(),
    format: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("text") }).loose(),
        z
          .object({
            type: z.literal("grammar"),
            grammar: z.object({ definition: z.string(), syntax: z.enum(["lark", "regex"]) }).loose(),
          })
          .loose(),
      ])
      .nullish(),
  })
  .loose();

/** Checks a custom tool's fields; a malformed one is a 400 naming the field under `param`. */
export function parseCustomTool(raw: unknown, param: string): CustomTool {
  return checked(customToolSchema, raw, param);
}

/** As parseCustomTool, for chat completions' shape (`param` is the tool's `custom` object, `tools[0].custom`). */
export function parseChatCustomTool(raw: unknown, param: string): CustomTool {
  const tool = checked(chatCustomToolSchema, raw, param);
  const format = tool.format;
  return {
    name: tool.name,
    ...(tool.description != null && { description: tool.description }),
    ...(format != null && {
      format:
        format.type === "grammar"
          ? { type: "grammar", syntax: format.grammar.syntax, definition: format.grammar.definition }
          : { type: "text" },
    }),
  };
}

function checked<T extends z.ZodType>(schema: T, raw: unknown, param: string): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue && issue.path.length > 0 ? `${param}.${formatPath(issue.path)}` : param;
  throw new GatewayError("invalid_request", `Invalid value for '${at}': ${issue?.message ?? "invalid custom tool"}.`, {
    param: at,
  });
}

/** The function tool a custom tool is offered as (see above). */
export function customToolDefinition(tool: CustomTool): ToolDefinition {
  const format = tool.format;
  const rule =
    format?.type === "grammar"
      ? `The input must be text that this ${format.syntax === "lark" ? "Lark grammar" : "regular expression"} accepts:\n${format.definition}`
      : "The input is free-form text.";
  const about = tool.description == null || tool.description === "" ? "" : `${tool.description}\n\n`;
  return {
    name: tool.name,
    description: `${about}Put the tool's whole input, as raw text, in \`input\`. ${rule}`,
    parameters: {
      type: "object",
      properties: { input: { type: "string", description: "The tool's raw text input." } },
      required: ["input"],
      additionalProperties: false,
    },
  };
}

/** A custom tool call's input as the arguments of the function call it is to a canonical target. */
export function customToolArguments(input: string): string {
  return JSON.stringify({ input });
}

/**
 * The input of a custom tool's call from the arguments the model gave its function: the `input`
 * string (or an object's only string, when a model named it otherwise); text that is not such an
 * object is the input as it stands.
 */
export function customToolInput(args: string): string {
  let json: unknown;
  try {
    json = JSON.parse(args);
  } catch {
    return args;
  }
  if (typeof json === "string") return json;
  if (json === null || typeof json !== "object" || Array.isArray(json)) return args;
  const fields = json as Record<string, unknown>;
  if (typeof fields.input === "string") return fields.input;
  const strings = Object.values(fields).filter((value) => typeof value === "string");
  return strings.length === 1 ? (strings[0] as string) : args;
}

/**
 * A custom tool call's input as it streams: the function's arguments come in pieces of JSON text,
 * `{"input": "…"}`, and the decoded string is given on as it arrives (escapes whole, a piece that ends
 * inside one held back until the rest comes). Arguments that do not start so (another key first) give
 * nothing here, and their input is read whole at the end (customToolInput).
 */
export class CustomToolInputStream {
  #text = "";
  /** Where the input string's next undecoded character is in #text; -1 before it is found. */
  #at = -1;
  #closed = false;
  /** The decoded input given on so far. */
  given = "";

  /** The input's new text in this piece of arguments ("" when there is none yet). */
  push(piece: string): string {
    this.#text += piece;
    if (this.#closed) return "";
    if (this.#at < 0) {
      const opening = /^\s*\{\s*"input"\s*:\s*"/.exec(this.#text);
      if (opening === null) return "";
      this.#at = opening[0].length;
    }
    let out = "";
    const text = this.#text;
    let i = this.#at;
    while (i < text.length) {
      const c = text[i] as string;
      if (c === '"') {
        this.#closed = true;
        i++;
        break;
      }
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const escaped = decodeEscape(text, i);
      if (escaped === undefined) break; // the escape goes on in the next piece
      out += escaped.text;
      i += escaped.length;
    }
    this.#at = i;
    this.given += out;
    return out;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** The JSON escape at `at` (a backslash) and its length; undefined while it is not whole yet. */
function decodeEscape(text: string, at: number): { text: string; length: number } | undefined {
  const kind = text[at + 1];
  if (kind === undefined) return undefined;
  if (kind !== "u") return { text: SIMPLE_ESCAPES[kind] ?? kind, length: 2 };
  if (at + 6 > text.length) return undefined;
  const code = Number.parseInt(text.slice(at + 2, at + 6), 16);
  // A high surrogate waits to see its low half, so a character is never given split.
  if (code >= 0xd800 && code <= 0xdbff) {
    if (at + 7 > text.length) return undefined;
    if (text[at + 6] === "\\") {
      if (at + 8 > text.length) return undefined;
      if (text[at + 7] === "u") {
        if (at + 12 > text.length) return undefined;
        const low = Number.parseInt(text.slice(at + 8, at + 12), 16);
        return { text: String.fromCharCode(code, low), length: 12 };
      }
    }
  }
  return { text: String.fromCharCode(code), length: 6 };
}
