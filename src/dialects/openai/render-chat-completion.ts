import type { ResponseMeta } from "../../core/index.js";
import { type ChatResult, makeId, type ToolCall, unixSeconds } from "../../core/index.js";
import { hasRedactedThinking, noteUncarriedPart, REDACTED_THINKING } from "../shared/index.js";
import { customToolInput } from "./custom-tools.js";
import { noteUncarriedCalls } from "./legacy-functions.js";
import { mapOpenAIChatFinishReason, type OpenAIChatFinishReason } from "./map-openai-finish-reason.js";
import { type ChatChoiceLogprobs, chatChoiceLogprobs } from "./render-chat-logprobs.js";
import { type OpenAIChatUsage, renderOpenAIChatUsage } from "./render-openai-usage.js";

export type OpenAIToolCall =
  | { id: string; type: "function"; function: { name: string; arguments: string } }
  /** A call of a custom tool (ChatCompletionMessageCustomToolCall): its free-form input. */
  | { id: string; type: "custom"; custom: { name: string; input: string } };

/** How an answer's calls are written for the request they answer. */
export interface ChatCallRendering {
  /**
   * The request's custom tools, whose calls are rendered as custom tool calls, their input read from
   * the arguments of the function they were offered as (custom-tools.ts).
   */
  custom: ReadonlySet<string>;
  /**
   * The request offered its tools as the deprecated `functions` (legacy-functions.ts): the answer's
   * first call is its `function_call`, finishing with `function_call`, never `tool_calls`; any other
   * call is named in the answer's notices.
   */
  legacyFunctions?: boolean;
}

export const PLAIN_CALLS: ChatCallRendering = { custom: new Set() };

/** The `chat.completion` object of the API reference. */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      message: {
        role: "assistant";
        content: string | null;
        /** The model's reasoning, as DeepSeek answers it; absent when there was none. */
        reasoning_content?: string;
        /** The model's refusal (text marked so by the target), apart from its content. */
        refusal: string | null;
        /** URL citations: none from any target tandem translates for; OpenAI sends the empty list on every message. */
        annotations: [];
        tool_calls?: OpenAIToolCall[];
        /** Deprecated: the one call of an answer to a request with `functions`. */
        function_call?: { name: string; arguments: string };
      };
      logprobs: ChatChoiceLogprobs | null;
      finish_reason: OpenAIChatFinishReason;
    },
  ];
  usage: OpenAIChatUsage;
}

/**
 * The whole answer. `logprobs`: the client asked for its tokens' logprobs (`logprobs: true`); the
 * choice's `logprobs` then holds those the target reported, and stays null when it reported none.
 * `calls`: how its calls are written (custom tools', the legacy `function_call`).
 */
export function renderChatCompletion(
  result: ChatResult,
  meta: ResponseMeta,
  logprobs = false,
  calls: ChatCallRendering = PLAIN_CALLS,
): ChatCompletion {
  const { custom } = calls;
  const hasToolCalls = result.toolCalls.length > 0;
  // A refusal has a field of its own, apart from the content (the SDK's parse helpers read it there).
  const text = result.refusal ? result.refusal.text : result.text;
  const message: ChatCompletion["choices"][0]["message"] = {
    role: "assistant",
    // OpenAI answers null content when the model only called tools, or only refused.
    content: (hasToolCalls || result.refusal) && text === "" ? null : text,
    refusal: result.refusal?.refusal ?? null,
    annotations: [],
  };
  if (result.reasoning) message.reasoning_content = result.reasoning;
  // Anthropic's redacted thinking has nothing readable and no field here: named, not dropped silently.
  if (hasRedactedThinking(result)) noteUncarriedPart(meta, REDACTED_THINKING);
  let finish = mapOpenAIChatFinishReason(result.finishReason, hasToolCalls);
  if (hasToolCalls && calls.legacyFunctions) {
    const [first, ...rest] = result.toolCalls;
    message.function_call = { name: (first as ToolCall).name, arguments: (first as ToolCall).arguments };
    noteUncarriedCalls(
      meta,
      rest.map((call) => call.name),
    );
    if (finish === "tool_calls") finish = "function_call";
  } else if (hasToolCalls) {
    message.tool_calls = result.toolCalls.map(
      (call): OpenAIToolCall =>
        custom.has(call.name)
          ? { id: call.id, type: "custom", custom: { name: call.name, input: customToolInput(call.arguments) } }
          : { id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } },
    );
  }
  return {
    id: makeId("chatcmpl-"),
    object: "chat.completion",
    created: unixSeconds(),
    model: meta.target,
    choices: [
      {
        index: 0,
        message,
        logprobs: logprobs && result.logprobs ? chatChoiceLogprobs(result.logprobs) : null,
        finish_reason: finish,
      },
    ],
    usage: renderOpenAIChatUsage(result.usage),
  };
}
