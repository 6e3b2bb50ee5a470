import {
  type GatewayError,
  makeId,
  mergeUsage,
  type ResponseMeta,
  type StreamEvent,
  type TokenLogprob,
  type Usage,
  unixSeconds,
} from "../../core/index.js";
import type { StreamRenderer } from "../shared/index.js";
import { noteUncarriedPart, REDACTED_THINKING, switchComment } from "../shared/index.js";
import { CustomToolInputStream, customToolInput } from "./custom-tools.js";
import { noteUncarriedCalls } from "./legacy-functions.js";
import { mapOpenAIChatFinishReason, type OpenAIChatFinishReason } from "./map-openai-finish-reason.js";
import { type ChatCallRendering, PLAIN_CALLS } from "./render-chat-completion.js";
import { type ChatChoiceLogprobs, chatChoiceLogprobs } from "./render-chat-logprobs.js";
import { openAIStreamErrorFrame } from "./render-openai-error.js";
import { type OpenAIChatUsage, renderOpenAIChatUsage } from "./render-openai-usage.js";

type ToolCallDelta =
  | { index: number; id?: string; type?: "function"; function: { name?: string; arguments: string } }
  /**
   * A custom tool's call (the newest openai SDKs' ChatCompletionChunk ToolCall, as their stream
   * helper joins it): id, type and name in the first piece, then its input text in pieces.
   */
  | { index: number; id?: string; type?: "custom"; custom: { name?: string; input: string } };

/** A custom tool's call as it streams: its input decoded from the arguments as they come (custom-tools.ts). */
interface CustomCall {
  input: CustomToolInputStream;
  arguments: string;
  ended: boolean;
}

interface ChunkDelta {
  role?: "assistant";
  content?: string | null;
  /** The model's reasoning, as DeepSeek (and vLLM, llama-server) stream it. */
  reasoning_content?: string;
  /** The model's refusal (OpenAI's own field for it), never its content. */
  refusal?: string | null;
  tool_calls?: ToolCallDelta[];
  /** Deprecated: the one call of an answer to a request with `functions`, its name first, then its arguments in pieces. */
  function_call?: { name?: string; arguments: string };
}

/** How a stream's calls are written: as a whole answer's (ChatCallRendering), and where a note on what is not carried goes. */
export interface StreamCallRendering extends ChatCallRendering {
  /** The answer's meta, whose notices name the calls the legacy shape has no room for (the stream's closing comment). */
  answer?: Pick<ResponseMeta, "notices" | "target">;
}

/** The `chat.completion.chunk` object of the API reference. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: ChunkDelta;
    logprobs: ChatChoiceLogprobs | null;
    finish_reason: OpenAIChatFinishReason | null;
  }[];
  usage?: OpenAIChatUsage | null;
}

/**
 * Canonical events -> `data: <chat.completion.chunk>` frames, framed as OpenAI does: the first
 * delta carries the role (with `content: ""` before text, `content: null` before a tool call), a
 * tool call's id/type/name come in its first piece and its arguments in the following ones (a
 * custom tool's call: `type: "custom"` and `custom.name`, then `custom.input` decoded from the
 * arguments of the function it was offered as, custom-tools.ts), a last
 * choice chunk has an empty delta and the finish reason, and with `include_usage` every chunk has
 * `usage: null` until a final chunk with no choices carries the usage. Then `data: [DONE]`.
 * Reasoning is `delta.reasoning_content`, as DeepSeek streams it. With `logprobs` (the client's
 * `logprobs: true`), a text chunk whose tokens the target reported carries them as
 * `logprobs: {content, refusal: null}` (tokens that came before their text in a chunk of their own,
 * with `content: ""`); every other chunk, and every chunk without `logprobs`, has `logprobs: null`.
 * For a request with the deprecated `functions`, the first call streams as `delta.function_call`
 * (its name, then its arguments in pieces) and the answer finishes with `function_call`; any other
 * call is left out and named in the closing comment (legacy-functions.ts).
 */
export class ChatCompletionStreamRenderer implements StreamRenderer {
  readonly contentType = "text/event-stream";
  #id: string;
  #created: number;
  /** The choice this renderer's chunks are (0 but for one of several fanned out, see ChoicesFanOut). */
  readonly #choice: number;
  /** The target whose chunks these are: the first, until a switch hands the answer to another. */
  #model: string;
  readonly #includeUsage: boolean;
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  /** Canonical call index -> the 0-based index OpenAI clients expect. */
  readonly #toolIndex = new Map<number, number>();
  /** The request's custom tools (a call of one streams as a custom tool call). */
  readonly #customTools: ReadonlySet<string>;
  /** The calls of custom tools, by canonical call index. */
  readonly #customCalls = new Map<number, CustomCall>();
  /** The request used the deprecated `functions`: its answer's one call is a `function_call`. */
  readonly #legacy: boolean;
  /** The canonical index of the call streamed as the `function_call`, once one started. */
  #legacyCall: number | undefined;
  /** The names of the calls after it, which the legacy shape has no room for. */
  readonly #uncarried: string[] = [];
  readonly #answer: StreamCallRendering["answer"];
  #roleSent = false;
  /** Text deltas are most of a stream: their frame is built once around the JSON-encoded text. */
  #textPrefix = "";
  #textSuffix = "";
  /** What follows a text chunk's `logprobs` value. */
  #textTail = "";
  /** The client asked for the tokens' logprobs. */
  readonly #logprobs: boolean;

  constructor(
    model: string,
    includeUsage: boolean,
    logprobs = false,
    calls: StreamCallRendering = PLAIN_CALLS,
    /** One choice of several answered apart (`n` > 1 fanned out): its index, and the id and time all its chunks share. */
    choice?: { index: number; id: string; created: number },
  ) {
    this.#id = choice?.id ?? makeId("chatcmpl-");
    this.#created = choice?.created ?? unixSeconds();
    this.#choice = choice?.index ?? 0;
    this.#model = model;
    this.#customTools = calls.custom;
    this.#legacy = calls.legacyFunctions === true;
    this.#answer = calls.answer;
    this.#includeUsage = includeUsage;
    this.#logprobs = logprobs;
    this.#buildTextFrame();
  }

  /**
   * Goes on with an answer whose first chunks came from elsewhere (a same-wire target's own, passed
   * through until a mid-stream switch): every chunk from here on has their `id` and `created`, as
   * every chunk of one OpenAI stream has the same, and no second role delta once they sent one.
   */
  continueChunks(from: { id?: string; created?: number; roleSent: boolean }): void {
    if (from.id !== undefined) this.#id = from.id;
    if (from.created !== undefined) this.#created = from.created;
    if (from.roleSent) this.#roleSent = true;
    this.#buildTextFrame();
  }

  /** Byte for byte what #frame({ content }) gives, without building and serialising the object each time. */
  #buildTextFrame(): void {
    const envelope = JSON.stringify(this.#envelope()).slice(0, -1);
    this.#textPrefix = `data: ${envelope},"choices":[{"index":${this.#choice},"delta":{"content":`;
    this.#textTail = `,"finish_reason":null}]${this.#includeUsage ? ',"usage":null' : ""}}\n\n`;
    this.#textSuffix = `},"logprobs":null${this.#textTail}`;
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "tool-call-end":
        return this.#endCustomCall(event.index);
      case "start":
      case "frame":
      // What the canonical events do not carry is named by respond.ts, not rendered.
      case "untranslated":
      // An echoed prompt is legacy completions' alone (CompletionPrompt.echo).
      case "prompt":
      // Tools tandem ran between the model's turns: chat completions has no item for them.
      case "hosted-tool":
      // A signature (or sealed reasoning) can be read only by the upstream that made it: the chat wire has no field for it.
      case "reasoning-signature":
      case "reasoning-encrypted":
        return "";
      // A whole block of it, with nothing readable: named in the closing comment, not dropped silently.
      case "reasoning-redacted":
        if (event.data !== "" && this.#answer !== undefined) noteUncarriedPart(this.#answer, REDACTED_THINKING);
        return "";
      case "reasoning-delta":
        if (event.text === "") return "";
        if (!this.#roleSent) {
          this.#roleSent = true;
          return this.#frame({ role: "assistant", content: null, reasoning_content: event.text, refusal: null });
        }
        return this.#frame({ reasoning_content: event.text });
      case "switch":
        // The chunks from here on are the next target's, and say so, as the whole answer's `model`
        // does (the openai SDK's finalChatCompletion() takes the last chunk's).
        this.#model = event.to;
        this.#buildTextFrame();
        return switchComment(event);
      case "text-delta":
        // A refusal goes in `delta.refusal`, as OpenAI streams it (the SDK's parse helpers read it
        // there; as content it would be parsed as the answer), its tokens not carried (see ChatChoiceLogprobs).
        if (event.refusal === true) {
          if (event.text === "") return "";
          return this.#roleFrame({ content: null, refusal: "" }) + this.#frame({ refusal: event.text });
        }
        if (this.#logprobs && event.logprobs !== undefined && event.refusal !== true)
          return this.#textWithLogprobs(event.text, event.logprobs);
        if (event.text === "") return "";
        return this.#roleFrame({ content: "", refusal: null }) + this.#textPrefix + JSON.stringify(event.text) + this.#textSuffix;
      case "tool-call-start": {
        if (this.#legacy) return this.#startLegacyCall(event.index, event.name);
        const index = this.#toolIndex.size;
        this.#toolIndex.set(event.index, index);
        let call: ToolCallDelta;
        if (this.#customTools.has(event.name)) {
          this.#customCalls.set(event.index, { input: new CustomToolInputStream(), arguments: "", ended: false });
          call = { index, id: event.id, type: "custom", custom: { name: event.name, input: "" } };
        } else call = { index, id: event.id, type: "function", function: { name: event.name, arguments: "" } };
        if (!this.#roleSent) {
          this.#roleSent = true;
          return this.#frame({ role: "assistant", content: null, tool_calls: [call], refusal: null });
        }
        return this.#frame({ tool_calls: [call] });
      }
      case "tool-call-delta": {
        if (this.#legacy) {
          if (event.index !== this.#legacyCall || event.argumentsDelta === "") return "";
          return this.#frame({ function_call: { arguments: event.argumentsDelta } });
        }
        const index = this.#toolIndex.get(event.index);
        if (index === undefined || event.argumentsDelta === "") return "";
        const custom = this.#customCalls.get(event.index);
        if (custom !== undefined) {
          if (custom.ended) return "";
          custom.arguments += event.argumentsDelta;
          const input = custom.input.push(event.argumentsDelta);
          return input === "" ? "" : this.#frame({ tool_calls: [{ index, custom: { input } }] });
        }
        return this.#frame({ tool_calls: [{ index, function: { arguments: event.argumentsDelta } }] });
      }
      case "usage":
        mergeUsage(this.#usage, event.usage);
        return "";
      case "finish": {
        let out = this.#roleFrame({ content: "", refusal: null });
        for (const index of this.#customCalls.keys()) out += this.#endCustomCall(index);
        let finish = mapOpenAIChatFinishReason(event.reason, this.#toolIndex.size > 0 || this.#legacyCall !== undefined);
        if (this.#legacyCall !== undefined && finish === "tool_calls") finish = "function_call";
        if (this.#answer !== undefined) noteUncarriedCalls(this.#answer, this.#uncarried);
        out += this.#frame({}, finish);
        if (this.#includeUsage) {
          out += sse({ ...this.#envelope(), choices: [], usage: renderOpenAIChatUsage(this.#usage) });
        }
        return out;
      }
    }
  }

  end(): string {
    return "data: [DONE]\n\n";
  }

  /** A call of an answer to a request with `functions`: the first is the `function_call`, the others only named. */
  #startLegacyCall(canonicalIndex: number, name: string): string {
    if (this.#legacyCall !== undefined) {
      this.#uncarried.push(name);
      return "";
    }
    this.#legacyCall = canonicalIndex;
    const call = { name, arguments: "" };
    if (!this.#roleSent) {
      this.#roleSent = true;
      return this.#frame({ role: "assistant", content: null, function_call: call, refusal: null });
    }
    return this.#frame({ function_call: call });
  }

  /**
   * A custom tool's call is over: what of its input the arguments held that did not stream as it came
   * (arguments that did not start `{"input": "`, read whole now) follows in one more piece. A call
   * cut off mid-input keeps what streamed.
   */
  #endCustomCall(canonicalIndex: number): string {
    const custom = this.#customCalls.get(canonicalIndex);
    const index = this.#toolIndex.get(canonicalIndex);
    if (custom === undefined || index === undefined || custom.ended) return "";
    custom.ended = true;
    const input = customToolInput(custom.arguments);
    const given = custom.input.given;
    const rest = input.startsWith(given) ? input.slice(given.length) : "";
    return rest === "" ? "" : this.#frame({ tool_calls: [{ index, custom: { input: rest } }] });
  }

  error(error: GatewayError): string {
    return openAIStreamErrorFrame(error);
  }

  /** A text chunk with its tokens' logprobs: as #frame would write it, around the precomputed prefix. */
  #textWithLogprobs(text: string, tokens: readonly TokenLogprob[]): string {
    const logprobs = JSON.stringify(chatChoiceLogprobs(tokens));
    return `${this.#roleFrame({ content: "", refusal: null })}${this.#textPrefix}${JSON.stringify(text)}},"logprobs":${logprobs}${this.#textTail}`;
  }

  #roleFrame(delta: ChunkDelta): string {
    if (this.#roleSent) return "";
    this.#roleSent = true;
    return this.#frame({ role: "assistant", ...delta });
  }

  #frame(delta: ChunkDelta, finishReason: OpenAIChatFinishReason | null = null): string {
    const chunk: ChatCompletionChunk = {
      ...this.#envelope(),
      choices: [{ index: this.#choice, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.#includeUsage) chunk.usage = null;
    return sse(chunk);
  }

  #envelope(): Pick<ChatCompletionChunk, "id" | "object" | "created" | "model"> {
    return { id: this.#id, object: "chat.completion.chunk", created: this.#created, model: this.#model };
  }
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}
