import type { ContentPart, Message, ToolCall, ToolMessage, UserMessage } from "./messages.js";

/**
 * What a target's API holds a conversation to beyond each message's shape (ProviderCapabilities.strictTurns).
 * Ollama and a local model take any history; Anthropic's Messages API and OpenAI's chat and
 * Responses APIs refuse a tool call without a result right after it ("tool_use ids were found without
 * tool_result blocks immediately after", "An assistant message with 'tool_calls' must be followed by
 * tool messages"), a result without its call ("unexpected tool_use_id", "messages with role 'tool'
 * must be a response to a preceeding message with 'tool_calls'") and, Anthropic, empty messages.
 * The dialects whose own APIs refuse such a history refuse it too (Anthropic Messages, Responses);
 * one from a lenient client (Ollama, chat completions) is mended on its way (mendTurns).
 */
export interface StrictTurns {
  /**
   * A user or assistant message is required: a system prompt alone is refused (Anthropic's "at least
   * one message is required"). false: a system prompt alone is taken (OpenAI's APIs), no message at all is not.
   */
  needsTurn: boolean;
  /**
   * An empty message (no text but whitespace, and nothing else) is refused (Anthropic's "text content
   * blocks must be non-empty"): it is left out. false: it is sent as it is (OpenAI's APIs take `""`).
   */
  refusesEmpty: boolean;
}

/** The result a tool call with none is given: an error result, as Claude Code gives a call the user interrupted. */
export const NO_RESULT_TEXT = "No result was given for this tool call: the conversation went on without it.";

export interface MendedTurns {
  /** The mended conversation; the same array when nothing needed mending (the common case costs no copy). */
  messages: Message[];
  /** What was mended, each kind once with its count, for x-tandem-warnings (`… not sent to <target>`). */
  mends: string[];
}

/**
 * The conversation as a strict target takes it (see StrictTurns), changed only where it must be:
 *
 * - the results of an assistant turn's tool calls, found before the next assistant turn, follow that
 *   turn at once (a system or user message that stood between them goes after them, in its order);
 * - a call with no result there gets an error result that says none was given (NO_RESULT_TEXT), right
 *   after the turn, before whatever the user said next;
 * - a tool result with no call before it (or a second result for one call) becomes a user message that
 *   says it is a tool's output, where it stood: the user's words are never reordered;
 * - an empty message (no text but whitespace, no image, file, tool call or reasoning) is left out, for
 *   a target that refuses one (`refusesEmpty`).
 *
 * Applied on the way to the target (router/attempt.ts), after what else changes the history there
 * (fitting, earlier reasoning left out), so what is sent is what was checked.
 */
export function mendTurns(messages: Message[], rules: StrictTurns): MendedTurns {
  const out: Message[] = [];
  let empty = 0;
  let orphans = 0;
  const unanswered: ToolCall[] = [];
  /** A message that is no result of the turn before it: left out when empty, a tool's output as user text. */
  const keep = (message: Message) => {
    if (rules.refusesEmpty && isEmpty(message)) empty++;
    else if (message.role === "tool") {
      orphans++;
      out.push(toolOutputAsUserText(message));
    } else out.push(message);
  };
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Message;
    const calls = message.role === "assistant" ? (message.toolCalls ?? []) : [];
    if (calls.length === 0) {
      keep(message);
      continue;
    }
    out.push(message);
    // Its results are those up to the next assistant turn; the rest of that stretch follows them.
    let end = i + 1;
    while (end < messages.length && messages[end]?.role !== "assistant") end++;
    const open = new Map(calls.map((call) => [call.id, call]));
    const rest: Message[] = [];
    for (let j = i + 1; j < end; j++) {
      const next = messages[j] as Message;
      if (next.role === "tool" && open.delete(next.toolCallId)) out.push(next);
      else rest.push(next);
    }
    for (const call of open.values()) {
      unanswered.push(call);
      out.push({
        role: "tool",
        toolCallId: call.id,
        name: call.name,
        content: [{ type: "text", text: NO_RESULT_TEXT }],
        isError: true,
      });
    }
    for (const next of rest) keep(next);
    i = end - 1;
  }
  const same = out.length === messages.length && out.every((message, k) => message === messages[k]);
  return { messages: same ? messages : out, mends: mendsNamed(empty, unanswered, orphans) };
}

/**
 * Whether a target with these rules would have nothing to answer once the conversation is mended:
 * no message with content at all, or (`needsTurn`) only system messages. Then the target is skipped,
 * and a plan of no other target is a 400 (router/target-fit.ts), rather than an upstream round trip.
 */
export function lacksTurns(messages: readonly Message[], rules: StrictTurns): boolean {
  let system = false;
  for (const message of messages) {
    // A tool message is kept, as a result or as user text.
    if (message.role === "tool") return false;
    if (rules.refusesEmpty && isEmpty(message)) continue;
    if (message.role !== "system") return false;
    system = true;
  }
  return rules.needsTurn || !system;
}

function isEmpty(message: Message): boolean {
  switch (message.role) {
    case "system":
      return message.content.trim() === "";
    case "user":
      return blank(message.content);
    case "assistant":
      return (message.toolCalls?.length ?? 0) === 0 && (message.reasoning?.length ?? 0) === 0 && blank(message.content);
    case "tool":
      // A result may be empty: the call was answered.
      return false;
  }
}

function blank(parts: readonly ContentPart[]): boolean {
  return parts.every((part) => part.type === "text" && part.text.trim() === "");
}

/** A tool result with no call to answer, as user text that says whose output it is (its images and files kept). */
function toolOutputAsUserText(message: ToolMessage): UserMessage {
  const tool = message.name === undefined ? "a tool" : `the tool ${message.name}`;
  const heading = `${message.isError ? "An error from" : "The output of"} ${tool}, whose call is not in this conversation:`;
  const [first, ...rest] = message.content;
  const content: ContentPart[] =
    first?.type === "text"
      ? [{ type: "text", text: `${heading}\n${first.text}` }, ...rest]
      : [{ type: "text", text: heading }, ...message.content];
  return { role: "user", content };
}

function mendsNamed(empty: number, unanswered: readonly ToolCall[], orphans: number): string[] {
  const mends: string[] = [];
  if (unanswered.length === 1) {
    const call = unanswered[0] as ToolCall;
    mends.push(`tool call ${call.name} (${call.id}) without a result (an error result saying none was given sent instead)`);
  } else if (unanswered.length > 1) {
    const ids = unanswered.map((call) => call.id).join(", ");
    mends.push(`${unanswered.length} tool calls without a result (${ids}: error results saying none was given sent instead)`);
  }
  if (orphans === 1) mends.push("a tool result without its call (sent as user text instead)");
  else if (orphans > 1) mends.push(`${orphans} tool results without their call (sent as user text instead)`);
  if (empty === 1) mends.push("an empty message");
  else if (empty > 1) mends.push(`${empty} empty messages`);
  return mends;
}
