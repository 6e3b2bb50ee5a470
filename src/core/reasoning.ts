import type { Message, ReasoningPart } from "./messages.js";
import type { ReasoningControl, ReasoningEffort } from "./request.js";
import type { StreamEvent } from "./stream.js";

/*
 * Reasoning across wires: the effort levels and token budgets the APIs use for the same control, what
 * of earlier turns' reasoning a target can be sent, and a stream's reasoning as blocks.
 */

/**
 * Anthropic's thinking budget for an effort level (its minimum is 1024). Claude Code's own budget,
 * 31999, is nearest high by ratio (effortForBudget), not xhigh.
 */
const BUDGETS: Record<ReasoningEffort, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 24576,
  xhigh: 49152,
  max: 65536,
};

export function budgetForEffort(effort: ReasoningEffort | undefined): number {
  return BUDGETS[effort ?? "medium"];
}

/**
 * The effort level whose budget (as budgetForEffort sets them) is nearest a thinking budget, by ratio:
 * the budgets grow geometrically, so 4096 is as near 2048 (low) as 8192 (medium), and 2000 is low.
 */
export function effortForBudget(budgetTokens: number): ReasoningEffort {
  let nearest: ReasoningEffort = "minimal";
  let distance = Number.POSITIVE_INFINITY;
  for (const [effort, budget] of Object.entries(BUDGETS) as [ReasoningEffort, number][]) {
    const d = Math.abs(Math.log(Math.max(1, budgetTokens) / budget));
    if (d < distance) [nearest, distance] = [effort, d];
  }
  return nearest;
}

/** The effort a reasoning control asks for, as an effort level: its own, its budget's nearest, else medium. */
export function effortOf(reasoning: ReasoningControl): ReasoningEffort {
  return reasoning.effort ?? (reasoning.budgetTokens !== undefined ? effortForBudget(reasoning.budgetTokens) : "medium");
}

/** Every effort level, least first. */
const EFFORT_LEVELS: readonly ReasoningEffort[] = ["minimal", "low", "medium", "high", "xhigh", "max"];

/**
 * The level a wire whose levels are `has` (least first) is sent for `effort`: the same where the wire
 * has it, else the highest below it (never more effort than asked: OpenAI's wire gets `max` as
 * xhigh, Ollama's `xhigh` as high), else the wire's least (`minimal` as low).
 */
export function effortOnWire(effort: ReasoningEffort, has: readonly ReasoningEffort[]): ReasoningEffort {
  if (has.includes(effort)) return effort;
  const rank = EFFORT_LEVELS.indexOf(effort);
  return has.filter((level) => EFFORT_LEVELS.indexOf(level) < rank).at(-1) ?? (has[0] as ReasoningEffort);
}

/**
 * An effort level the client named that a wire lacks (effortOnWire), for ChatProvider.unsent:
 * `effort max (xhigh sent instead)`, which clientFieldName names by the client's own field
 * (`reasoning_effort`, `output_config.effort`, `think`). A budget's nearest level is itself a closest
 * form, and is not named.
 */
export function unsentEffort(reasoning: ReasoningControl | undefined, has: readonly ReasoningEffort[]): string[] {
  const effort = reasoning?.enabled ? reasoning.effort : undefined;
  if (effort === undefined) return [];
  const sent = effortOnWire(effort, has);
  return sent === effort ? [] : [`effort ${effort} (${sent} sent instead)`];
}

/**
 * What an upstream reads of earlier turns' reasoning: `signed`, only blocks with a signature (or
 * redacted data) it made itself (Anthropic); `sealed`, only reasoning it sealed itself (a Responses
 * upstream's `encrypted_content`); `text`, the readable text (Ollama's `thinking`).
 * Absent: none (OpenAI chat completions has no reasoning in requests).
 */
export type ReasoningHistory = "signed" | "sealed" | "text";

/**
 * The conversation as one target can be sent it: earlier reasoning it cannot read is left out, and
 * named (`dropped`, for `x-tandem-warnings`). A signature goes back only to the provider that made it
 * (`producer`'s provider; a signature with no producer came from an Anthropic client and is taken as
 * its upstream's); sealed reasoning only to the model that sealed it. `target`: as its provider names
 * it (`provider/upstream model`), as sealed reasoning names its producer. The same array is returned
 * when nothing changes.
 */
export function reasoningForTarget(
  messages: Message[],
  target: string,
  accepts: ReasoningHistory | undefined,
): { messages: Message[]; dropped: number } {
  // The hot path: most conversations carry no reasoning, and cost no copy.
  if (!messages.some((m) => m.role === "assistant" && m.reasoning !== undefined)) return { messages, dropped: 0 };
  let dropped = 0;
  let changed = false;
  const provider = providerOf(target);
  const out = messages.map((message) => {
    if (message.role !== "assistant" || message.reasoning === undefined) return message;
    changed = true;
    const kept: ReasoningPart[] = [];
    for (const part of message.reasoning) {
      const readable = readableBy(part, target, provider, accepts);
      if (readable) kept.push(readable);
      else if (
        part.text !== "" ||
        part.signature !== undefined ||
        part.redactedData !== undefined ||
        part.encryptedContent !== undefined
      )
        dropped++;
    }
    const { reasoning: _, ...rest } = message;
    return kept.length > 0 ? { ...rest, reasoning: kept } : rest;
  });
  return { messages: changed ? out : messages, dropped };
}

/** The `x-tandem-warnings` entry for earlier reasoning left out ("... not sent to <target>"). */
export function droppedReasoning(count: number): string {
  return count === 1 ? "earlier reasoning" : `earlier reasoning (${count} blocks)`;
}

function readableBy(
  part: ReasoningPart,
  target: string,
  provider: string,
  accepts: ReasoningHistory | undefined,
): ReasoningPart | undefined {
  if (accepts === "text") return part.text === "" ? undefined : { type: "reasoning", text: part.text };
  if (accepts === "sealed") {
    // Sealed by this very model (as convertToOpenAIResponsesRequest sends it back): the item as it was.
    if (part.encryptedContent === undefined || part.producer !== target) return undefined;
    return { type: "reasoning", text: part.text, encryptedContent: part.encryptedContent, producer: part.producer };
  }
  if (accepts !== "signed") return undefined;
  const ours = part.producer === undefined || providerOf(part.producer) === provider;
  if (!ours) return undefined;
  if (part.redactedData !== undefined) return { type: "reasoning", text: "", redactedData: part.redactedData };
  if (part.signature !== undefined && part.signature !== "")
    return { type: "reasoning", text: part.text, signature: part.signature };
  return undefined;
}

function providerOf(target: string): string {
  const slash = target.indexOf("/");
  return slash < 0 ? target : target.slice(0, slash);
}

/**
 * Gathers a stream's reasoning into blocks as the events say them: text until a signature closes a
 * block, a redacted block on its own. Feed it every event; `blocks()` gives what was read.
 */
export class ReasoningBlocks {
  #blocks: ReasoningPart[] = [];
  #open: ReasoningPart | undefined;

  push(event: StreamEvent): void {
    switch (event.type) {
      case "reasoning-delta":
        if (this.#open === undefined) {
          this.#open = { type: "reasoning", text: "" };
          this.#blocks.push(this.#open);
        }
        this.#open.text += event.text;
        break;
      case "reasoning-signature":
        if (this.#open === undefined) this.#blocks.push({ type: "reasoning", text: "", signature: event.signature });
        else this.#open.signature = event.signature;
        this.#open = undefined;
        break;
      case "reasoning-redacted":
        this.#open = undefined;
        this.#blocks.push({ type: "reasoning", text: "", redactedData: event.data });
        break;
      case "reasoning-encrypted": {
        const sealed = { encryptedContent: event.data, producer: event.producer };
        if (this.#open === undefined) this.#blocks.push({ type: "reasoning", text: "", ...sealed });
        else Object.assign(this.#open, sealed);
        this.#open = undefined;
        break;
      }
      case "text-delta":
      case "tool-call-start":
      // A tool tandem ran between the model's turns: the next turn's reasoning is its own block.
      case "hosted-tool":
        // The answer began: reasoning after it (interleaved thinking) is another block.
        this.#open = undefined;
        break;
      case "switch":
        if (event.restart) this.clear();
        break;
      default:
        break;
    }
  }

  clear(): void {
    this.#blocks = [];
    this.#open = undefined;
  }

  blocks(): ReasoningPart[] {
    return this.#blocks;
  }
}
