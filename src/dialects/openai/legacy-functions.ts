import { GatewayError, type ResponseMeta, type ToolCall, type ToolChoice, type ToolDefinition } from "../../core/index.js";
import { addNotice } from "../shared/index.js";
import type { ChatCompletionRequestBody, ChatMessageBody, LegacyFunctionBody } from "./chat-completions-api.js";

/**
 * Chat completions' deprecated functions API (`functions`, `function_call`, a `role: "function"`
 * message, an assistant's `function_call`), which OpenAI still takes and its SDKs still type. An
 * OpenAI-compatible target on the client's wire is sent the body as it came; for every other target
 * the request is read as the canonical tools, tool choice, tool calls and tool results, and the
 * answer's call goes back in the legacy shape (`message.function_call`, `finish_reason:
 * "function_call"`), which holds one call: the targets are asked for one (parallel calls off), and a
 * target that makes several anyway has the first rendered and the rest named in `x-tandem-warnings`.
 */

/** The request's `functions` as canonical tools. */
export function legacyTools(functions: readonly LegacyFunctionBody[]): ToolDefinition[] {
  return functions.map((fn) => ({
    name: fn.name,
    ...(fn.description != null && { description: fn.description }),
    // As a function tool's: OpenAI treats a function without parameters as taking none.
    parameters: fn.parameters ?? { type: "object", properties: {} },
  }));
}

/**
 * The request's `function_call` as the canonical tool choice: `none`, `auto`, or the function named.
 * A named one needs that function among `functions` (OpenAI's words when there are none); `auto` and
 * `none` without functions mean nothing and are taken, as `tool_choice`'s are.
 */
export function legacyToolChoice(
  choice: NonNullable<ChatCompletionRequestBody["function_call"]>,
  tools: readonly ToolDefinition[],
): ToolChoice {
  if (choice === "auto" || choice === "none") return choice;
  if (tools.length === 0) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are specified.",
      { param: "function_call" },
    );
  }
  if (!tools.some((tool) => tool.name === choice.name)) {
    throw new GatewayError(
      "invalid_request",
      `Invalid value for 'function_call.name': no function named '${choice.name}' was given in functions.`,
      { param: "function_call.name" },
    );
  }
  return { name: choice.name };
}

/**
 * What OpenAI refuses of a request that mixes the two APIs, in its words: `functions` beside `tools`,
 * and, with `functions`, an assistant turn's `tool_calls` in the history.
 */
export function checkLegacyMix(wire: Pick<ChatCompletionRequestBody, "functions" | "tools" | "messages">): void {
  if (wire.functions == null) return;
  if (wire.tools != null) {
    throw new GatewayError(
      "invalid_request",
      "Invalid request: 'functions' and 'tools' cannot both be provided. 'functions' are deprecated; use the 'tools' parameter instead.",
      { param: "functions" },
    );
  }
  wire.messages.forEach((message, i) => {
    if (message.role !== "assistant" || message.tool_calls == null || message.tool_calls.length === 0) return;
    throw new GatewayError(
      "invalid_request",
      "Invalid parameter: 'tool_calls' cannot be used when 'functions' are present. Please use 'tools' instead of 'functions'.",
      { param: `messages[${i}].tool_calls` },
    );
  });
}

/**
 * Gives the history's legacy calls ids and pairs each function message with its call. The legacy
 * API has no ids: a call's is made from its message's place (`call_fn_<index>`, the same on every
 * turn of a conversation, so a target's prompt cache still matches), unless the history already uses
 * it. A function message answers the earliest unanswered call of its name, else the earliest
 * unanswered call; with none before it, it gets an id of its own (a result without its call, which a
 * strict target is sent as text, core/strict-turns.ts).
 */
export class LegacyCallIds {
  readonly #taken = new Set<string>();
  /** The calls made so far and not yet answered, in order. */
  readonly #open: { id: string; name: string }[] = [];

  constructor(messages: readonly ChatMessageBody[]) {
    for (const message of messages) {
      if (message.role === "assistant") for (const call of message.tool_calls ?? []) this.#taken.add(call.id);
      else if (message.role === "tool") this.#taken.add(message.tool_call_id);
    }
  }

  /** The call an assistant turn's `function_call` becomes, at `index` in the messages. */
  call(index: number, fn: { name: string; arguments: string | Record<string, unknown> }): ToolCall {
    const id = this.#fresh(`call_fn_${index}`);
    this.#open.push({ id, name: fn.name });
    return { id, name: fn.name, arguments: typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments) };
  }

  /** The id of the call a function message at `index`, naming `name`, answers. */
  result(index: number, name: string): string {
    let at = this.#open.findIndex((open) => open.name === name);
    if (at < 0 && this.#open.length > 0) at = 0;
    if (at < 0) return this.#fresh(`call_fn_${index}`);
    const [open] = this.#open.splice(at, 1);
    return (open as { id: string }).id;
  }

  #fresh(base: string): string {
    let id = base;
    for (let n = 2; this.#taken.has(id); n++) id = `${base}_${n}`;
    this.#taken.add(id);
    return id;
  }
}

/**
 * Names, in the answer's notices (`x-tandem-warnings`, or a stream's closing comment), the calls of a
 * target's answer that the legacy `function_call` has no room for: every call after the first.
 */
export function noteUncarriedCalls(meta: Pick<ResponseMeta, "notices" | "target">, names: readonly string[]): void {
  if (names.length === 0) return;
  addNotice(
    meta,
    `function calls after the first of the answer from ${meta.target} not carried (the legacy function_call holds one): ${names.join(", ")}`,
  );
}
