import type { ResponseMeta } from "../../core/index.js";
import {
  type ChatResult,
  type GatewayError,
  makeId,
  mergeUsage,
  type StreamEvent,
  type Usage,
  unixSeconds,
} from "../../core/index.js";
import type { StreamRenderer } from "../shared/index.js";
import { switchComment } from "../shared/index.js";
import type { ChoiceSlot } from "./choices-fan-out.js";
import { mapOpenAICompletionFinishReason } from "./map-openai-finish-reason.js";
import { type CompletionLogprobs, CompletionLogprobsWriter, joinCompletionLogprobs } from "./render-completion-logprobs.js";
import { openAIStreamErrorFrame } from "./render-openai-error.js";
import { type OpenAICompletionUsage, renderOpenAICompletionUsage } from "./render-openai-usage.js";

interface CompletionChoice {
  text: string;
  index: number;
  logprobs: CompletionLogprobs | null;
  finish_reason: "stop" | "length" | "content_filter" | null;
}

/** The `text_completion` object of the API reference; streamed chunks have the same shape. */
export interface TextCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: OpenAICompletionUsage | null;
}

/**
 * Where the client asked for the answer's tokens (`logprobs: N`): the prompt they follow. The choice
 * then carries those the target reported, and `logprobs` stays null when it reported none.
 */
export interface CompletionLogprobsOptions {
  prompt: string;
}

/**
 * `echo`: the text the choice starts with (the prompt, for a client's `echo: true`; else none). A
 * target that reported the prompt as it read it (ChatResult.prompt: token ids decoded with its
 * model's vocabulary, and with `echo` and `logprobs` its tokens' logprobs) is echoed that way: its
 * text, and its tokens before the answer's.
 */
export function renderCompletion(
  result: ChatResult,
  meta: ResponseMeta,
  logprobs?: CompletionLogprobsOptions,
  echo?: string,
): TextCompletion {
  const read = echo === undefined ? undefined : result.prompt;
  if (read !== undefined) echo = read.text;
  let tokens: CompletionLogprobs | null = null;
  if (logprobs && read?.logprobs) {
    const writer = new CompletionLogprobsWriter("");
    const prompt = writer.next(read.logprobs);
    tokens = result.logprobs ? joinCompletionLogprobs(prompt, writer.next(result.logprobs)) : prompt;
  } else if (logprobs && result.logprobs) {
    tokens = new CompletionLogprobsWriter(read?.text ?? logprobs.prompt).next(result.logprobs);
  }
  return {
    id: makeId("cmpl-"),
    object: "text_completion",
    created: unixSeconds(),
    model: meta.target,
    choices: [
      {
        text: (echo ?? "") + result.text,
        index: 0,
        logprobs: tokens,
        finish_reason: mapOpenAICompletionFinishReason(result.finishReason),
      },
    ],
    usage: renderOpenAICompletionUsage(result.usage),
  };
}

/**
 * Canonical events -> streamed `text_completion` chunks: one per text delta, a last choice chunk
 * with empty text and the finish reason, with `include_usage` a final chunk with no choices and the
 * usage, then `data: [DONE]`. With `echo`, a first chunk holds the prompt (as the target read it,
 * with its tokens' logprobs, where it reported it: a `prompt` event). Tool calls have no form in this API and are dropped. Asked for
 * logprobs, a text chunk carries its tokens' (tokens that came before their text in a chunk with
 * empty text); a refusal's are not carried (the canonical answer keeps none).
 */
export class CompletionStreamRenderer implements StreamRenderer {
  readonly contentType = "text/event-stream";
  readonly #id: string;
  readonly #created: number;
  /** The choice this renderer's chunks are (0 but for one of several fanned out, see fanOutChoices). */
  readonly #index: number;
  /** The target whose chunks these are: the first, until a switch hands the answer to another. */
  #model: string;
  readonly #includeUsage: boolean;
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  #logprobs: CompletionLogprobsWriter | undefined;
  /** What the first chunk gives before the answer (the prompt, with `echo`), until it is sent. */
  #echo: string | undefined;
  /** The target reported the prompt as it read it (`prompt` events), which is echoed instead. */
  #echoing = false;

  constructor(
    model: string,
    includeUsage: boolean,
    logprobs?: CompletionLogprobsOptions,
    echo?: string,
    /** One choice of several answered apart (several prompts, `n` > 1): its index, and the id and time all its chunks share. */
    choice?: ChoiceSlot,
  ) {
    this.#id = choice?.id ?? makeId("cmpl-");
    this.#created = choice?.created ?? unixSeconds();
    this.#index = choice?.index ?? 0;
    this.#model = model;
    this.#includeUsage = includeUsage;
    this.#logprobs = logprobs && new CompletionLogprobsWriter(logprobs.prompt);
    this.#echo = echo;
  }

  event(event: StreamEvent): string {
    if (event.type === "prompt") {
      // The prompt as the target read it, in pieces maybe: echoed so (its tokens from offset 0 where
      // they came with logprobs), rather than the client's own text.
      if (this.#echo === undefined && !this.#echoing) return "";
      if (!this.#echoing) {
        this.#echo = undefined;
        this.#echoing = true;
        // Offsets from the prompt's start with its tokens; else the answer's from its end.
        if (this.#logprobs) this.#logprobs = new CompletionLogprobsWriter(event.logprobs ? "" : event.text);
      }
      const tokens = this.#logprobs && event.logprobs ? this.#logprobs.next(event.logprobs) : null;
      if (event.text === "" && tokens === null) return "";
      return this.#frame([{ text: event.text, index: this.#index, logprobs: tokens, finish_reason: null }]);
    }
    if (this.#echo !== undefined && (event.type === "text-delta" || event.type === "finish")) {
      const echo = this.#echo;
      this.#echo = undefined;
      if (echo === "") return this.event(event);
      return this.#frame([{ text: echo, index: this.#index, logprobs: null, finish_reason: null }]) + this.event(event);
    }
    switch (event.type) {
      case "text-delta": {
        const tokens = this.#logprobs && event.logprobs && event.refusal !== true ? this.#logprobs.next(event.logprobs) : null;
        if (event.text === "" && tokens === null) return "";
        return this.#frame([{ text: event.text, index: this.#index, logprobs: tokens, finish_reason: null }]);
      }
      case "usage":
        mergeUsage(this.#usage, event.usage);
        return "";
      case "finish": {
        const finish_reason = mapOpenAICompletionFinishReason(event.reason);
        let out = this.#frame([{ text: "", index: this.#index, logprobs: null, finish_reason }]);
        if (this.#includeUsage) out += this.#frame([], renderOpenAICompletionUsage(this.#usage));
        return out;
      }
      case "switch":
        // The chunks from here on are the next target's, and say so, as the whole answer's `model` does.
        this.#model = event.to;
        return switchComment(event);
      default:
        return "";
    }
  }

  end(): string {
    return "data: [DONE]\n\n";
  }

  error(error: GatewayError): string {
    return openAIStreamErrorFrame(error);
  }

  #frame(choices: CompletionChoice[], usage: OpenAICompletionUsage | null = null): string {
    const chunk: TextCompletion = {
      id: this.#id,
      object: "text_completion",
      created: this.#created,
      model: this.#model,
      choices,
    };
    if (this.#includeUsage) chunk.usage = usage;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}
