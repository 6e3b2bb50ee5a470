import type { FileSearchResult, ResponseMeta } from "../../../core/index.js";
import {
  GatewayError,
  type HostedToolItem,
  mergeUsage,
  type StreamEvent,
  type TokenLogprob,
  type Usage,
} from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import type { StreamRenderer } from "../../shared/index.js";
import { switchComment } from "../../shared/index.js";
import { CustomToolInputStream } from "../custom-tools.js";
import { openAIErrorObject } from "../render-openai-error.js";
import { itemId, redactedReasoningItem, signedReasoningItem } from "../state/index.js";
import { fileCitations } from "./file-citations.js";
import type { PendingResponse } from "./pending-response.js";
import { outputTextLogprobs, textEventLogprobs } from "./render-logprobs.js";
import {
  callItemId,
  functionCallItem,
  hostedItem,
  isJsonArguments,
  type MessagePart,
  messageItem,
  outputTextPart,
  type ResponseState,
  reasoningItem,
  statusFor,
} from "./render-response.js";

interface OpenMessage {
  kind: "message";
  id: string;
  outputIndex: number;
  /** The parts closed so far. */
  parts: MessagePart[];
  /** The part being streamed: text, or the model's refusal; its text so far, and its tokens' logprobs when asked for. */
  open: "text" | "refusal";
  text: string;
  logprobs: TokenLogprob[];
}

interface OpenReasoning {
  id: string;
  outputIndex: number;
  text: string;
  /** Anthropic's signature of the thinking block the item shows, once it came (state/thinking-signature.ts). */
  signature?: string;
  /** The item's `encrypted_content` as a Responses upstream on the canonical path sealed it, and that upstream. */
  sealed?: { data: string; producer: string };
}

/**
 * Where a Responses event stream stands: the next sequence number, whether it began, and the output
 * items so far. Shared with the native stream (native-responses.ts), so that whichever writes next
 * (the target's own frames, or this renderer after a switch or an error) goes on with the same count.
 */
export interface ResponseProgress {
  sequence: number;
  started: boolean;
  /** The output items as the client is shown them. */
  output: StateItem[];
  /**
   * Items of `output` a Responses target sent with more than the client is shown (reasoning's
   * `encrypted_content` it did not ask for), by index, as that target sent them and with its name:
   * they are stored in place of the client's view, so the next turn can send them back to it.
   */
  sealed: Map<number, { item: StateItem; origin: string }>;
}

interface OpenCall {
  kind: "call";
  id: string;
  outputIndex: number;
  callId: string;
  name: string;
  arguments: string;
  /** A custom tool's call: its input, decoded from the arguments as they stream (custom-tools.ts). */
  input: CustomToolInputStream | undefined;
}

/**
 * Canonical events -> the Responses API's event stream, framed as OpenAI frames it
 * (`event: <type>\ndata: <json>\n\n`, `sequence_number` from 0): `response.created` and
 * `response.in_progress`; per message `response.output_item.added`, `response.content_part.added`,
 * `response.output_text.delta`s, `.done`, `response.content_part.done`, `response.output_item.done`;
 * per function call `output_item.added`, `function_call_arguments.delta`s and `.done`,
 * `output_item.done`; per custom tool call (custom-tools.ts) `output_item.added`,
 * `custom_tool_call_input.delta`s (its input decoded as the arguments stream), `.done` and
 * `output_item.done`; then, once the response is saved, `response.completed` (or
 * `response.incomplete`). A failure after the start is an `error` event followed by
 * `response.failed`, whose response carries the error. A mid-stream switch of target is an SSE
 * comment, which every parser skips. Reasoning (canonical `reasoning-delta`: Anthropic thinking, a
 * model's reasoning_content) is a `reasoning` output item before the answer, streamed as OpenAI
 * streams a reasoning summary: `response.output_item.added`, `response.reasoning_summary_part.added`,
 * `response.reasoning_summary_text.delta`s and `.done`, `response.reasoning_summary_part.done`,
 * `response.output_item.done`.
 *
 * With `options.logprobs` (the client's `include: ["message.output_text.logprobs"]`), each text
 * delta carries its tokens' logprobs, and `.done` and the finished part all of the part's, each in
 * its own shape (render-logprobs.ts); without, they carry `logprobs: []` whatever the target
 * reported, as OpenAI's do.
 */
export class ResponseStreamRenderer implements StreamRenderer {
  readonly contentType = "text/event-stream";
  readonly #pending: PendingResponse;
  readonly #meta: ResponseMeta;
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  readonly progress: ResponseProgress = { sequence: 0, started: false, output: [], sealed: new Map() };
  /** Open function calls by canonical index. */
  readonly #calls = new Map<number, OpenCall>();
  #message: OpenMessage | undefined;
  #reasoning: OpenReasoning | undefined;
  #finish: Pick<ResponseState, "status" | "incompleteReason"> | undefined;
  readonly #logprobs: boolean;
  readonly #encrypted: boolean;
  /** The hosted items (mcp_list_tools, mcp_call) started and not yet ended, by id: where, and how far a call's arguments went. */
  readonly #hostedAt = new Map<string, { outputIndex: number; arguments: string; calling: boolean }>();
  /** What this response's file searches found so far: the text after them cites the files it names. */
  readonly #found: FileSearchResult[] = [];
  /** The target whose events are rendered: the first, until a switch hands the answer to another. */
  #answering: string;

  /**
   * `logprobs`: the text's tokens' log probabilities are shown. `encrypted`: the client asked for
   * `include: ["reasoning.encrypted_content"]`, so a Responses upstream's sealed reasoning is shown in
   * its item too (a stateless client sends it back itself).
   */
  constructor(pending: PendingResponse, meta: ResponseMeta, options: { logprobs?: boolean; encrypted?: boolean } = {}) {
    this.#pending = pending;
    this.#meta = meta;
    this.#logprobs = options.logprobs === true;
    this.#encrypted = options.encrypted === true;
    this.#answering = meta.target;
  }

  event(event: StreamEvent): string {
    let out = this.progress.started ? "" : this.#start();
    switch (event.type) {
      case "start":
      case "frame":
      // What the canonical events do not carry is named by respond.ts, not rendered.
      case "untranslated":
      // An echoed prompt is legacy completions' alone (CompletionPrompt.echo).
      case "prompt":
      case "usage":
        if (event.type === "usage") mergeUsage(this.#usage, event.usage);
        return out;
      case "reasoning-redacted":
        return out + this.#redactedReasoning(event.data);
      case "reasoning-signature": {
        // A signature ends its thinking block: the item showing the block is done, kept with it
        // (not shown) for that provider's next turn; more thinking is another block, another item.
        if (event.signature === "") return out;
        if (!this.#reasoning) out += this.#closeMessage("completed") + this.#openReasoning();
        (this.#reasoning as unknown as OpenReasoning).signature = event.signature;
        return out + this.#closeReasoning();
      }
      case "reasoning-encrypted": {
        // As a signature: the item is done, kept with its sealed content (shown only when `include`
        // asks), for that upstream's next turn.
        if (!this.#reasoning) out += this.#closeMessage("completed") + this.#openReasoning();
        (this.#reasoning as unknown as OpenReasoning).sealed = { data: event.data, producer: event.producer };
        return out + this.#closeReasoning();
      }
      case "switch":
        this.#answering = event.to;
        return out + switchComment(event);
      case "hosted-tool":
        return out + this.#hosted(event.item);
      case "reasoning-delta": {
        if (event.text === "") return out;
        if (!this.#reasoning) out += this.#closeMessage("completed") + this.#openReasoning();
        const reasoning = this.#reasoning as unknown as OpenReasoning;
        reasoning.text += event.text;
        return (
          out +
          this.frame("response.reasoning_summary_text.delta", {
            item_id: reasoning.id,
            output_index: reasoning.outputIndex,
            summary_index: 0,
            delta: event.text,
          })
        );
      }
      case "text-delta": {
        const kind = event.refusal ? "refusal" : "text";
        // Tokens before the text they make (rare) still belong to the part: an empty delta carries them.
        const tokens = this.#logprobs && kind === "text" ? event.logprobs : undefined;
        if (event.text === "" && tokens === undefined) return out;
        out += this.#closeReasoning();
        if (!this.#message) out += this.#openMessage(kind);
        const message = this.#message as unknown as OpenMessage;
        // Text after a refusal, or a refusal after text: a part of its own in the same message.
        if (message.open !== kind) out += this.#closePart(message) + this.#openPart(message, kind);
        message.text += event.text;
        const at = { item_id: message.id, output_index: message.outputIndex, content_index: message.parts.length };
        if (kind === "refusal") return out + this.frame("response.refusal.delta", { ...at, delta: event.text });
        if (tokens !== undefined) for (const token of tokens) message.logprobs.push(token);
        const logprobs = tokens === undefined ? [] : textEventLogprobs(tokens);
        return out + this.frame("response.output_text.delta", { ...at, delta: event.text, logprobs });
      }
      case "tool-call-start": {
        out += this.#closeReasoning() + this.#closeMessage("completed");
        const call: OpenCall = {
          kind: "call",
          id: callItemId(event.name, this.#pending),
          outputIndex: this.progress.output.length,
          callId: event.id,
          name: event.name,
          arguments: "",
          input: this.#pending.custom.has(event.name) ? new CustomToolInputStream() : undefined,
        };
        this.#calls.set(event.index, call);
        const item = functionCallItem(call.id, { id: call.callId, name: call.name, arguments: "" }, "in_progress", this.#pending);
        this.progress.output.push(item);
        return out + this.frame("response.output_item.added", { output_index: call.outputIndex, item });
      }
      case "tool-call-delta": {
        const call = this.#calls.get(event.index);
        if (!call || event.argumentsDelta === "") return out;
        call.arguments += event.argumentsDelta;
        if (call.input !== undefined) {
          const delta = call.input.push(event.argumentsDelta);
          if (delta === "") return out;
          const at = { item_id: call.id, output_index: call.outputIndex };
          return out + this.frame("response.custom_tool_call_input.delta", { ...at, delta });
        }
        return (
          out +
          this.frame("response.function_call_arguments.delta", {
            item_id: call.id,
            output_index: call.outputIndex,
            delta: event.argumentsDelta,
          })
        );
      }
      case "tool-call-end": {
        const call = this.#calls.get(event.index);
        // A call whose arguments do not parse was cut off (the router passes one on only then): it
        // stays open until the finish, which closes it as incomplete. So does one with no arguments
        // at all: a call cut before its first character looks like a call of a tool without
        // parameters, and only the finish tells them apart (`length` cut it; a call stands otherwise).
        if (!call || call.arguments === "" || !isJsonArguments(call.arguments)) return out;
        this.#calls.delete(event.index);
        return out + this.#closeCall(call, "completed");
      }
      case "finish": {
        this.#finish = statusFor(event.reason, event.raw);
        const status = this.#finish.status === "incomplete" ? "incomplete" : "completed";
        out += this.#closeReasoning() + this.#closeMessage(status);
        for (const call of this.#calls.values()) out += this.#closeCall(call, status);
        this.#calls.clear();
        // An answer with neither text nor calls is still one (empty) message, as in a whole response.
        if (!this.progress.output.some((item) => item.type !== "reasoning"))
          out += this.#openMessage() + this.#closeMessage(status);
        return out;
      }
    }
  }

  /**
   * The final event, once the response is saved. A save that fails throws, as the same-wire path's
   * end does: the stream's caller records the failure (the request log, the server's log) and ends
   * the stream with `error` (this renderer's) and `response.failed`.
   */
  async end(): Promise<string> {
    if (!this.#finish) return this.error(new GatewayError("upstream_error", "The upstream stream ended before it finished"));
    const state: ResponseState = { ...this.#finish, output: this.progress.output, usage: this.#usage };
    const response = await this.#pending.finish(this.#meta, state, this.progress.sealed);
    const type = state.status === "incomplete" ? "response.incomplete" : "response.completed";
    return this.frame(type, { response });
  }

  async error(error: GatewayError): Promise<string> {
    let out = this.progress.started ? "" : this.#start();
    out += this.#closeReasoning() + this.#closeMessage("incomplete");
    for (const call of this.#calls.values()) out += this.#closeCall(call, "incomplete");
    this.#calls.clear();
    return this.#failed(error, out);
  }

  async #failed(error: GatewayError, before: string): Promise<string> {
    const state: ResponseState = { status: "failed", output: this.progress.output, usage: this.#usage, error };
    let response: Record<string, unknown>;
    try {
      response = await this.#pending.finish(this.#meta, state, this.progress.sealed);
    } catch {
      response = this.#pending.render(this.#meta, state);
    }
    const { message, code, param } = openAIErrorObject(error);
    return before + this.frame("error", { code, message, param }) + this.frame("response.failed", { response });
  }

  #start(): string {
    this.progress.started = true;
    const response = this.#pending.render(this.#meta, { status: "in_progress", output: [], usage: undefined });
    return this.frame("response.created", { response }) + this.frame("response.in_progress", { response });
  }

  #openMessage(kind: "text" | "refusal" = "text"): string {
    const message: OpenMessage = {
      kind: "message",
      id: itemId("msg_"),
      outputIndex: this.progress.output.length,
      parts: [],
      open: kind,
      text: "",
      logprobs: [],
    };
    this.#message = message;
    const item = messageItem(message.id, "", "in_progress");
    this.progress.output.push(item);
    return this.frame("response.output_item.added", { output_index: message.outputIndex, item }) + this.#openPart(message, kind);
  }

  #openPart(message: OpenMessage, kind: "text" | "refusal"): string {
    message.open = kind;
    message.text = "";
    message.logprobs = [];
    return this.frame("response.content_part.added", {
      item_id: message.id,
      output_index: message.outputIndex,
      content_index: message.parts.length,
      part: kind === "refusal" ? { type: "refusal", refusal: "" } : outputTextPart(""),
    });
  }

  /** Ends the part being streamed (`.done` and `content_part.done`) and adds it to the message's parts. */
  #closePart(message: OpenMessage): string {
    const at = { item_id: message.id, output_index: message.outputIndex, content_index: message.parts.length };
    const citations = message.open === "refusal" ? [] : fileCitations(message.text, this.#found);
    const part: MessagePart =
      message.open === "refusal"
        ? { type: "refusal", refusal: message.text }
        : outputTextPart(message.text, outputTextLogprobs(message.logprobs), citations);
    message.parts.push(part);
    // The citations are known once the part's text is whole: each is added before the text is done.
    let annotated = "";
    for (const [i, annotation] of citations.entries()) {
      annotated += this.frame("response.output_text.annotation.added", { ...at, annotation_index: i, annotation });
    }
    const done =
      part.type === "refusal"
        ? this.frame("response.refusal.done", { ...at, refusal: part.refusal })
        : this.frame("response.output_text.done", { ...at, text: part.text, logprobs: textEventLogprobs(message.logprobs) });
    return annotated + done + this.frame("response.content_part.done", { ...at, part });
  }

  #closeMessage(status: "completed" | "incomplete"): string {
    const message = this.#message;
    if (!message) return "";
    this.#message = undefined;
    const out = this.#closePart(message);
    const item = messageItem(message.id, message.parts, status);
    this.progress.output[message.outputIndex] = item;
    return out + this.frame("response.output_item.done", { output_index: message.outputIndex, item });
  }

  #closeCall(call: OpenCall, status: "completed" | "incomplete"): string {
    let item = functionCallItem(call.id, { id: call.callId, name: call.name, arguments: call.arguments }, status, this.#pending);
    // A custom call cut off mid-input: what its stream gave is its input (the arguments do not parse).
    if (call.input !== undefined && call.input.given !== "" && !isJsonArguments(call.arguments))
      item = { ...item, input: call.input.given };
    this.progress.output[call.outputIndex] = item;
    if (call.input !== undefined) {
      // The input as read from the whole arguments; what the stream did not give yet goes first.
      const input = String(item.input);
      const given = call.input.given;
      const rest = input.startsWith(given) ? input.slice(given.length) : "";
      const at = { item_id: call.id, output_index: call.outputIndex };
      return (
        (rest === "" ? "" : this.frame("response.custom_tool_call_input.delta", { ...at, delta: rest })) +
        this.frame("response.custom_tool_call_input.done", { ...at, input }) +
        this.frame("response.output_item.done", { output_index: call.outputIndex, item })
      );
    }
    return (
      this.frame("response.function_call_arguments.done", {
        item_id: call.id,
        output_index: call.outputIndex,
        name: call.name,
        arguments: call.arguments,
      }) + this.frame("response.output_item.done", { output_index: call.outputIndex, item })
    );
  }

  /**
   * A tool tandem ran for the model, as OpenAI streams its MCP items: `output_item.added`, then for a
   * listing `mcp_list_tools.in_progress` … `.completed` (or `.failed`); for a call its arguments as
   * the model writes them (`mcp_call_arguments.delta`s, `.done`), `mcp_call.in_progress` while it
   * runs, `.completed` (or `.failed`); then `output_item.done` with the item as it ended. An approval
   * request is added and done at once.
   */
  #hosted(item: HostedToolItem): string {
    let out = "";
    let state = this.#hostedAt.get(item.id);
    if (state === undefined) {
      out += this.#closeReasoning() + this.#closeMessage("completed");
      const rendered = hostedItem(
        item.kind === "call" ? { ...item, status: "in_progress", arguments: "" } : item,
        this.#pending.fileSearchResults,
      );
      state = { outputIndex: this.progress.output.length, arguments: "", calling: false };
      this.progress.output.push(rendered);
      out += this.frame("response.output_item.added", { output_index: state.outputIndex, item: rendered });
      if (item.kind === "approval-request") {
        return out + this.frame("response.output_item.done", { output_index: state.outputIndex, item: rendered });
      }
      this.#hostedAt.set(item.id, state);
      if (item.kind === "list-tools") out += this.frame("response.mcp_list_tools.in_progress", this.#at(item.id, state));
      if (item.kind === "file-search") out += this.frame("response.file_search_call.in_progress", this.#at(item.id, state));
    }
    const at = this.#at(item.id, state);
    if (item.kind === "file-search") return out + this.#fileSearch(item, state, at);
    if (item.kind === "call") {
      if (item.arguments.length > state.arguments.length) {
        out += this.frame("response.mcp_call_arguments.delta", { ...at, delta: item.arguments.slice(state.arguments.length) });
        state.arguments = item.arguments;
      }
      if (item.status !== "in_progress" && !state.calling) {
        state.calling = true;
        out += this.frame("response.mcp_call_arguments.done", { ...at, arguments: item.arguments });
        out += this.frame("response.mcp_call.in_progress", at);
      }
    }
    if (item.status !== "completed" && item.status !== "failed") return out;
    this.#hostedAt.delete(item.id);
    const rendered = hostedItem(item);
    this.progress.output[state.outputIndex] = rendered;
    const prefix = item.kind === "list-tools" ? "response.mcp_list_tools" : "response.mcp_call";
    return (
      out +
      this.frame(`${prefix}.${item.status}`, at) +
      this.frame("response.output_item.done", { output_index: state.outputIndex, item: rendered })
    );
  }

  /**
   * A `file_search_call` as OpenAI streams it: `file_search_call.in_progress` (with the item's
   * `output_item.added`), `.searching`, `.completed`, then `output_item.done` (a failed search has
   * no event of its own: its item is done, `failed`).
   */
  #fileSearch(
    item: Extract<HostedToolItem, { kind: "file-search" }>,
    state: { outputIndex: number; calling: boolean },
    at: { item_id: string; output_index: number },
  ): string {
    let out = "";
    if (item.status !== "in_progress" && !state.calling) {
      state.calling = true;
      out += this.frame("response.file_search_call.searching", at);
    }
    if (item.status !== "completed" && item.status !== "failed") return out;
    this.#hostedAt.delete(item.id);
    const rendered = hostedItem(item, this.#pending.fileSearchResults);
    this.progress.output[state.outputIndex] = rendered;
    if (item.results !== undefined) this.#found.push(...item.results);
    if (item.status === "completed") out += this.frame("response.file_search_call.completed", at);
    return out + this.frame("response.output_item.done", { output_index: state.outputIndex, item: rendered });
  }

  #at(id: string, state: { outputIndex: number }): { item_id: string; output_index: number } {
    return { item_id: id, output_index: state.outputIndex };
  }

  #openReasoning(): string {
    const reasoning: OpenReasoning = { id: itemId("rs_"), outputIndex: this.progress.output.length, text: "" };
    this.#reasoning = reasoning;
    const item = reasoningItem(reasoning.id, undefined);
    this.progress.output.push(item);
    return (
      this.frame("response.output_item.added", { output_index: reasoning.outputIndex, item }) +
      this.frame("response.reasoning_summary_part.added", {
        item_id: reasoning.id,
        output_index: reasoning.outputIndex,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      })
    );
  }

  /**
   * Anthropic's `redacted_thinking` block: a reasoning item with no summary (as OpenAI's reasoning
   * items without one), done at once, kept with the block's data (not shown) for that provider's
   * next turn (state/thinking-signature.ts).
   */
  #redactedReasoning(data: string): string {
    if (data === "") return "";
    const out = this.#closeReasoning() + this.#closeMessage("completed");
    const outputIndex = this.progress.output.length;
    const item = reasoningItem(itemId("rs_"), undefined);
    this.progress.output.push(item);
    this.progress.sealed.set(outputIndex, { item: redactedReasoningItem(item, data), origin: this.#answering });
    return (
      out +
      this.frame("response.output_item.added", { output_index: outputIndex, item }) +
      this.frame("response.output_item.done", { output_index: outputIndex, item })
    );
  }

  #closeReasoning(): string {
    const reasoning = this.#reasoning;
    if (!reasoning) return "";
    this.#reasoning = undefined;
    let item = reasoningItem(reasoning.id, reasoning.text);
    if (reasoning.signature !== undefined) {
      this.progress.sealed.set(reasoning.outputIndex, {
        item: signedReasoningItem(item, reasoning.signature),
        origin: this.#answering,
      });
    } else if (reasoning.sealed !== undefined) {
      const sealed = { ...item, encrypted_content: reasoning.sealed.data };
      this.progress.sealed.set(reasoning.outputIndex, { item: sealed, origin: reasoning.sealed.producer });
      if (this.#encrypted) item = sealed;
    }
    this.progress.output[reasoning.outputIndex] = item;
    const at = { item_id: reasoning.id, output_index: reasoning.outputIndex, summary_index: 0 };
    return (
      this.frame("response.reasoning_summary_text.done", { ...at, text: reasoning.text }) +
      this.frame("response.reasoning_summary_part.done", { ...at, part: { type: "summary_text", text: reasoning.text } }) +
      this.frame("response.output_item.done", { output_index: reasoning.outputIndex, item })
    );
  }

  /**
   * One SSE frame, numbered on this stream's sequence; the type leads the data as in OpenAI's own
   * frames. Also the native stream's, for the events it adds to a target's own (closing what a cut
   * stream left open), so that both number one sequence.
   */
  frame(type: string, fields: Record<string, unknown>): string {
    const data = JSON.stringify({ type, sequence_number: this.progress.sequence++, ...fields });
    return `event: ${type}\ndata: ${data}\n\n`;
  }
}
