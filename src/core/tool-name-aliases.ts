import { createHash } from "node:crypto";
import type { Message } from "./messages.js";
import type { ChatRequest } from "./request.js";
import type { StreamEvent } from "./stream.js";

/** The characters OpenAI's and Anthropic's APIs take in a tool's name. */
const NAME_CHARACTERS = /^[A-Za-z0-9_-]+$/;

/**
 * The name a tool goes by on a wire whose names are `[A-Za-z0-9_-]` and at most `max` characters
 * (OpenAI's and Anthropic's: 64): the name itself when it fits, else the name with every other
 * character as `_`, cut, and 8 hex digits of its SHA-256 (the same alias for the same name, in every
 * request, so a conversation's earlier calls keep matching).
 */
export function toolNameAlias(name: string, max: number): string {
  if (name.length <= max && NAME_CHARACTERS.test(name)) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, max - 9)}_${hash}`;
}

/** A request with its tool names as aliases (see toolNameAlias), and each alias's own name. */
export interface AliasedToolNames {
  request: ChatRequest;
  /** Alias -> the client's name, for the calls in the answer. */
  names: ReadonlyMap<string, string>;
}

/**
 * The request with every tool name a wire cannot take as its alias: the tools, a named tool_choice,
 * the calls in the history and the tool results' names. Undefined when every name fits (the request
 * is sent as it is, and nothing is copied: this runs for every translated attempt). The answer's
 * calls are named back with renameToolCalls.
 */
export function aliasToolNames(request: ChatRequest, max: number): AliasedToolNames | undefined {
  // First only look: the name -> alias of each name that needs one.
  const aliases = new Map<string, string>();
  const look = (name: string) => {
    if (aliases.has(name)) return;
    const aliased = toolNameAlias(name, max);
    if (aliased !== name) aliases.set(name, aliased);
  };
  for (const tool of request.tools ?? []) look(tool.name);
  for (const message of request.messages) {
    if (message.role === "assistant") for (const call of message.toolCalls ?? []) look(call.name);
    else if (message.role === "tool" && message.name !== undefined) look(message.name);
  }
  const choice = request.toolChoice;
  if (typeof choice === "object") look(choice.name);
  if (aliases.size === 0) return undefined;

  const alias = (name: string) => aliases.get(name) ?? name;
  const messages = request.messages.map((message): Message => {
    if (message.role === "assistant" && message.toolCalls?.some((call) => aliases.has(call.name))) {
      return { ...message, toolCalls: message.toolCalls.map((call) => ({ ...call, name: alias(call.name) })) };
    }
    if (message.role === "tool" && message.name !== undefined && aliases.has(message.name)) {
      return { ...message, name: alias(message.name) };
    }
    return message;
  });
  return {
    request: {
      ...request,
      messages,
      ...(request.tools !== undefined && {
        tools: request.tools.map((tool) => (aliases.has(tool.name) ? { ...tool, name: alias(tool.name) } : tool)),
      }),
      ...(typeof choice === "object" && { toolChoice: { ...choice, name: alias(choice.name) } }),
    },
    names: new Map([...aliases].map(([name, aliased]) => [aliased, name])),
  };
}

/** The answer's tool calls under the client's own names (an alias the request did not use is left as it is). */
export async function* renameToolCalls(
  events: AsyncIterable<StreamEvent>,
  names: ReadonlyMap<string, string>,
): AsyncGenerator<StreamEvent> {
  for await (const event of events) {
    if (event.type === "tool-call-start") {
      const name = names.get(event.name);
      yield name === undefined ? event : { ...event, name };
    } else yield event;
  }
}
