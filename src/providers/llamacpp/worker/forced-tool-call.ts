import type { ChatHistoryItem, GbnfJsonSchema } from "node-llama-cpp";
import type { ProviderChatRequest, ToolDefinition } from "../../../core/index.js";
import { toGbnfSchema } from "./to-gbnf-schema.js";

/**
 * `tool_choice: required` or a named tool (Anthropic `any` / `tool`): the client needs a call, not
 * prose — structured-output helpers (the AI SDK's generateObject, LangChain's withStructuredOutput,
 * the Agents SDK's output types) rely on it. node-llama-cpp's function calling lets the model choose
 * to answer in text, so a forced call is generated under a grammar instead: a JSON object
 * `{"name": <an offered tool>, "arguments": <that tool's arguments>}`, which always parses and always
 * names an offered tool with arguments of its schema's shape. Undefined when nothing is forced.
 */
export function forcedTools(request: Pick<ProviderChatRequest, "tools" | "toolChoice">): ToolDefinition[] | undefined {
  const tools = request.tools ?? [];
  if (tools.length === 0) return undefined;
  const choice = request.toolChoice;
  if (choice === "required") return tools;
  if (typeof choice === "object") {
    const named = tools.filter((t) => t.name === choice.name);
    return named.length > 0 ? named : undefined;
  }
  return undefined;
}

/** The grammar's schema: one object naming one of the tools, with that tool's arguments. */
export function forcedCallSchema(tools: readonly ToolDefinition[]): GbnfJsonSchema {
  const calls = tools.map((tool) => ({
    type: "object",
    properties: { name: { const: tool.name }, arguments: argumentsSchema(tool) },
  }));
  return (calls.length === 1 ? calls[0] : { oneOf: calls }) as unknown as GbnfJsonSchema;
}

function argumentsSchema(tool: ToolDefinition): unknown {
  const params = tool.parameters ?? {};
  return Object.keys(params).length > 0 ? toGbnfSchema(params) : { type: "object", properties: {} };
}

/**
 * Tells the model which calls it may make, in the system prompt (merged into the conversation's
 * first system message, since some chat templates accept only one, and only first).
 */
export function withForcedCallInstruction(history: ChatHistoryItem[], tools: readonly ToolDefinition[]): ChatHistoryItem[] {
  const list = tools
    .map(
      (t) =>
        `- ${t.name}${t.description ? `: ${t.description}` : ""}\n  arguments (JSON Schema): ${JSON.stringify(t.parameters ?? {})}`,
    )
    .join("\n");
  const instruction =
    `Answer by calling ${tools.length === 1 ? "this tool" : "one of these tools"}. Reply with only a JSON object ` +
    `{"name": <the tool's name>, "arguments": <its arguments>}.\nTools:\n${list}`;
  const first = history[0];
  if (first?.type === "system") return [{ type: "system", text: `${first.text}\n\n${instruction}` }, ...history.slice(1)];
  return [{ type: "system", text: instruction }, ...history];
}

/** The call in the grammar-bound answer, or undefined when it was cut off before it closed. */
export function parseForcedCall(text: string): { name: string; arguments: string } | undefined {
  try {
    const value = JSON.parse(text) as { name?: unknown; arguments?: unknown };
    if (typeof value.name !== "string") return undefined;
    return { name: value.name, arguments: JSON.stringify(value.arguments ?? {}) };
  } catch {
    return undefined;
  }
}

/**
 * A forced call cut off before it closed (by the token limit, or the end of the context window), as
 * far as the model wrote it: OpenAI returns a call cut by `max_tokens` with its arguments so far and
 * `finish_reason: "length"`, Anthropic its `tool_use` block with `stop_reason: "max_tokens"`, and
 * clients tell a cut call from no call by that. The grammar writes `{"name": <tool>, "arguments":
 * ...}` in that order: the tool is known once what its name has so far fits one offered tool (at
 * once when one tool is forced), and the arguments are the text after `"arguments":`, JSON that does
 * not close, or "" when the cut came before them. Undefined when it came before the name says which
 * tool (one of several) it is.
 */
export function parseCutForcedCall(
  text: string,
  tools: readonly ToolDefinition[],
): { name: string; arguments: string } | undefined {
  // Tool names are letters, digits, `_` and `-` on every API: no escapes to read.
  const named = /^\s*\{\s*"name"\s*:\s*"([^"]*)("?)/.exec(text);
  const written = named?.[1] ?? "";
  const closed = named?.[2] === '"';
  const fits = tools.filter((tool) => (closed ? tool.name === written : tool.name.startsWith(written)));
  if (fits.length !== 1) return undefined;
  const after = named === null ? 0 : named.index + named[0].length;
  const args = /"arguments"\s*:\s*/.exec(text.slice(after));
  return {
    name: (fits[0] as ToolDefinition).name,
    arguments: args === null ? "" : text.slice(after + args.index + args[0].length).trimEnd(),
  };
}
