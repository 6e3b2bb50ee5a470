import type { ResponseMeta } from "../../core/index.js";
import { GatewayError, mergeUsage, type StreamEvent, toolUseId, type Usage } from "../../core/index.js";
import type { StreamRenderer } from "../shared/index.js";
import { switchComment } from "../shared/index.js";
import { toAnthropicStopDetails, toAnthropicStopReason, withRefusal } from "./map-to-anthropic-stop-reason.js";
import { messageId } from "./message-id.js";
import { renderAnthropicError } from "./render-anthropic-error.js";
import { betaUsage, renderDeltaUsage, renderUsage } from "./render-anthropic-usage.js";
import { sealedSignature } from "./sealed-signature.js";
import type { ThinkingDisplay } from "./thinking-display.js";
import { toolInputJson } from "./tool-input.js";

type OpenBlock =
  | { kind: "text"; index: number }
  | { kind: "thinking"; index: number }
  | { kind: "tool"; index: number; toolIndex: number };

/** One SSE frame the way Anthropic writes it: a named event whose data repeats the type. */
function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Renders canonical events as Anthropic's Messages stream: message_start, ping, then content
 * blocks opened lazily as events arrive (reasoning opens a thinking block, closed by its signature
 * when an Anthropic upstream signed it; a redacted one is a redacted_thinking block; a text delta
 * opens a text block; a tool call start closes whatever is open and opens a tool_use block), message_delta with the stop reason and usage, and
 * message_stop.
 *
 * message_start waits for the first content event (or the finish), so the input token count that
 * providers report just after `start` is already in it, as Anthropic clients expect.
 *
 * A tool call's argument text is gathered and sent as one input_json_delta when its block closes:
 * Anthropic's clients parse the joined partial_json at content_block_stop and throw on bad JSON,
 * and only the whole text can be checked (bad arguments become `{}`, see tool-input.ts). Anthropic's
 * wire cannot interleave blocks, so argument text for a tool call whose block has already closed is
 * dropped; no backend streams calls that way in practice.
 */
export class MessageStreamRenderer implements StreamRenderer {
  readonly contentType = "text/event-stream; charset=utf-8";
  readonly #meta: ResponseMeta;
  #id: string | undefined;
  #started = false;
  #finished = false;
  #nextBlock = 0;
  #open: OpenBlock | undefined;
  #usage: Partial<Usage> = {};
  /** The model gave its answer as a refusal (a text-delta marked so). */
  #refused = false;
  readonly #toolArgs = new Map<number, string>();
  readonly #closedTools = new Set<number>();

  readonly #thinking: ThinkingDisplay;
  readonly #requestId: string | undefined;
  readonly #beta: boolean;

  /**
   * `thinking`: how the client asked for thinking to be shown (see ThinkingDisplay). Default
   * `shown`. `requestId`: quoted by an error event, as the request's HTTP errors do. `beta`:
   * the request was `?beta=true`, whose Beta events declare `context_management` and more usage
   * counters (see render-message.ts).
   */
  constructor(meta: ResponseMeta, thinking: ThinkingDisplay = "shown", requestId?: string, beta = false) {
    this.#meta = meta;
    this.#thinking = thinking;
    this.#requestId = requestId;
    this.#beta = beta;
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "start":
        this.#id ??= event.id;
        return "";
      case "switch":
        return switchComment(event);
      case "frame":
      // What the canonical events do not carry is named by respond.ts, not rendered.
      case "untranslated":
      // An echoed prompt is legacy completions' alone (CompletionPrompt.echo).
      case "prompt":
      // Tools tandem ran between the model's turns: the Messages API has no item for them.
      case "hosted-tool":
        return "";
      case "reasoning-delta": {
        if (event.text === "" || this.#thinking !== "shown") return "";
        const out = this.#openThinking();
        return (
          out + sse("content_block_delta", { index: this.#open?.index, delta: { type: "thinking_delta", thinking: event.text } })
        );
      }
      // Only an Anthropic upstream signs: the block goes back to it as it came.
      case "reasoning-signature":
        return this.#signed(event.signature);
      // Another provider's sealed reasoning: in the signature, for the client to send back (sealed-signature.ts).
      case "reasoning-encrypted":
        return this.#signed(sealedSignature(event.producer, event.data));
      case "reasoning-redacted": {
        if (this.#thinking === "off") return "";
        const out = this.#ensureStarted() + this.#closeOpen();
        const index = this.#nextBlock++;
        return (
          out +
          sse("content_block_start", { index, content_block: { type: "redacted_thinking", data: event.data } }) +
          sse("content_block_stop", { index })
        );
      }
      case "usage":
        mergeUsage(this.#usage as Usage, event.usage);
        return "";
      case "text-delta": {
        if (event.text === "") return "";
        if (event.refusal) this.#refused = true;
        let out = this.#ensureStarted();
        if (this.#open?.kind !== "text") {
          out += this.#closeOpen();
          const index = this.#nextBlock++;
          this.#open = { kind: "text", index };
          out += sse("content_block_start", { index, content_block: { type: "text", text: "", citations: null } });
        }
        return out + sse("content_block_delta", { index: this.#open.index, delta: { type: "text_delta", text: event.text } });
      }
      case "tool-call-start": {
        let out = this.#ensureStarted() + this.#closeOpen();
        const index = this.#nextBlock++;
        this.#open = { kind: "tool", index, toolIndex: event.index };
        this.#toolArgs.set(event.index, "");
        out += sse("content_block_start", {
          index,
          content_block: { type: "tool_use", id: toolUseId(event.id), name: event.name, input: {}, caller: { type: "direct" } },
        });
        return out;
      }
      case "tool-call-delta": {
        const sofar = this.#toolArgs.get(event.index);
        if (sofar !== undefined && !this.#closedTools.has(event.index)) {
          this.#toolArgs.set(event.index, sofar + event.argumentsDelta);
        }
        return "";
      }
      case "tool-call-end":
        return this.#open?.kind === "tool" && this.#open.toolIndex === event.index ? this.#closeOpen() : "";
      case "finish": {
        const out = this.#ensureStarted() + this.#closeOpen();
        this.#finished = true;
        const stopReason = withRefusal(
          toAnthropicStopReason(event.reason, event.raw, event.stopSequence, this.#toolArgs.size > 0),
          this.#refused,
        );
        return (
          out +
          sse("message_delta", {
            delta: {
              stop_reason: stopReason,
              stop_sequence: stopReason === "stop_sequence" ? (event.stopSequence ?? null) : null,
              stop_details: toAnthropicStopDetails(stopReason),
              // As on the Message (see render-message.ts): the SDK's delta declares it, null without a container.
              container: null,
            },
            usage: { ...renderDeltaUsage(this.#usage), ...betaUsage(this.#beta) },
            ...(this.#beta && { context_management: null }),
          })
        );
      }
    }
  }

  /**
   * The message was begun by a target's own frames (the same-wire path) with blocks up to
   * `nextBlock - 1`, all stopped: the canonical events that follow continue that message.
   */
  continueMessage(nextBlock: number): void {
    this.#started = true;
    this.#open = undefined;
    this.#nextBlock = Math.max(this.#nextBlock, nextBlock);
  }

  end(): string {
    if (this.#finished) return sse("message_stop", {});
    // Never a silent truncation: a stream that stops before its finish says so.
    return this.error(new GatewayError("upstream_error", "The answer ended before it finished"));
  }

  error(error: GatewayError): string {
    const { body } = renderAnthropicError(error, this.#requestId);
    return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
  }

  /**
   * A signature ends the thinking block (opened for it when its text was not shown): the block goes
   * back with it. Written unless thinking is off; an empty one (no signature) is none.
   */
  #signed(signature: string): string {
    if (this.#thinking === "off" || (signature === "" && this.#thinking === "omitted")) return "";
    const out = this.#openThinking();
    const index = this.#open?.index;
    return out + sse("content_block_delta", { index, delta: { type: "signature_delta", signature } }) + this.#closeOpen();
  }

  /**
   * Opens a thinking block unless one is open. Its `signature` is "" as Anthropic starts it; one
   * from another provider keeps it so (a client that sends such a block back to Anthropic through
   * tandem has it left out there, see native-anthropic.ts).
   */
  #openThinking(): string {
    let out = this.#ensureStarted();
    if (this.#open?.kind === "thinking") return out;
    out += this.#closeOpen();
    const index = this.#nextBlock++;
    this.#open = { kind: "thinking", index };
    return out + sse("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
  }

  #ensureStarted(): string {
    if (this.#started) return "";
    this.#started = true;
    const usage = { ...renderUsage(this.#usage), ...betaUsage(this.#beta) };
    return (
      sse("message_start", {
        message: {
          id: messageId(this.#id),
          type: "message",
          role: "assistant",
          model: this.#meta.target,
          content: [],
          container: null,
          diagnostics: null,
          stop_reason: null,
          stop_sequence: null,
          stop_details: null,
          usage,
          ...(this.#beta && { context_management: null }),
        },
      }) + sse("ping", {})
    );
  }

  #closeOpen(): string {
    const open = this.#open;
    if (!open) return "";
    this.#open = undefined;
    let out = "";
    if (open.kind === "tool") {
      const json = toolInputJson(this.#toolArgs.get(open.toolIndex) ?? "");
      this.#closedTools.add(open.toolIndex);
      out += sse("content_block_delta", { index: open.index, delta: { type: "input_json_delta", partial_json: json } });
    }
    return out + sse("content_block_stop", { index: open.index });
  }
}
