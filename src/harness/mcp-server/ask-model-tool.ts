import type { IncomingHttpHeaders } from "node:http";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ChatRequest, FinishReason, Gateway, Message, ResponseMeta, Usage } from "../../core/index.js";
import { SENSITIVITY_HEADER } from "../../privacy/sensitivity.js";
import { toolError } from "./tool-error.js";

export const ASK_MODEL_DESCRIPTION =
  "Ask one of tandem's models (see list_models) a question and get its answer. tandem routes the request as it " +
  "routes any client's: failover between targets, privacy rules (a private prompt stays on this machine or is " +
  "refused), and its egress audit. Use a local model for the user's private data: it never leaves the machine. " +
  "The result names the target that answered.";

export const askModelInput = {
  model: z.string().min(1).max(512).describe("A target (`provider/model`) or a route (e.g. `auto`, `private`) from list_models."),
  prompt: z.string().min(1).describe("The question or task, as the user message."),
  system: z.string().optional().describe("A system prompt (instructions for the model)."),
  max_tokens: z.number().int().min(1).max(1_000_000).optional().describe("The longest answer, in tokens."),
  sensitivity: z
    .enum(["public", "internal", "private"])
    .optional()
    .describe(
      "How sensitive the prompt is, as the x-tandem-sensitivity header says it: `private` keeps it on this " +
        "machine (or refuses it when the model has no local target). Default: tandem detects it.",
    ),
};

export const askModelOutput = {
  answer: z.string(),
  target: z.string().describe("The target (`provider/model`) that answered."),
  route: z.string().nullable().describe("The route the model name resolved to, or null for a target."),
  attempts: z.number(),
  degraded: z.string().nullable().describe("Why the answer came from a lower tier than the first, or null."),
  finish_reason: z.string(),
  sensitivity: z.string().optional().describe("The prompt's sensitivity, when tandem classified it."),
};

export type AskModelArgs = z.infer<z.ZodObject<typeof askModelInput>>;

/** What one ask_model call did: for the server's request log and usage rows. */
export interface ModelAnswer {
  model: string;
  meta: ResponseMeta;
  usage: Partial<Usage>;
}

/**
 * Asks the gateway (the one every dialect is given: routing, failover, privacy, the egress audit,
 * a route's tools and memory) for one whole answer to a prompt.
 */
export async function askModel(
  gateway: Gateway,
  args: AskModelArgs,
  signal: AbortSignal,
  onAnswer?: (answer: ModelAnswer) => void,
): Promise<CallToolResult> {
  const messages: Message[] = [];
  if (args.system !== undefined && args.system !== "") messages.push({ role: "system", content: args.system });
  messages.push({ role: "user", content: [{ type: "text", text: args.prompt }] });
  const request: ChatRequest = {
    model: args.model,
    messages,
    stream: false,
    ...(args.max_tokens !== undefined && { maxTokens: args.max_tokens }),
  };
  // Only what the tool's arguments say: the MCP request's own headers (its key) are not the model's business.
  const headers: IncomingHttpHeaders = args.sensitivity === undefined ? {} : { [SENSITIVITY_HEADER]: args.sensitivity };
  try {
    const stream = await gateway.chat(request, { signal, headers });
    let answer = "";
    let target = stream.meta.target;
    let degraded = stream.meta.degraded;
    let finish: FinishReason = "other";
    const usage: Partial<Usage> = {};
    for await (const event of stream.events) {
      if (event.type === "text-delta") answer += event.text;
      else if (event.type === "usage") Object.assign(usage, event.usage);
      else if (event.type === "finish") finish = event.reason;
      else if (event.type === "switch") {
        // The answer broke on one target and another carried on (or, with restart, answered afresh).
        if (event.restart) answer = "";
        target = event.to;
        degraded = event.reason;
      }
    }
    const meta: ResponseMeta = { ...stream.meta, degraded };
    onAnswer?.({ model: args.model, meta, usage });
    const via = meta.route === undefined ? "" : ` via route ${meta.route}`;
    return {
      content: [
        { type: "text", text: answer },
        { type: "text", text: `[answered by ${target}${via}${degraded === undefined ? "" : `; degraded: ${degraded}`}]` },
      ],
      structuredContent: {
        answer,
        target,
        route: meta.route ?? null,
        attempts: meta.attempts,
        degraded: degraded ?? null,
        finish_reason: finish,
        ...(meta.sensitivity !== undefined && { sensitivity: meta.sensitivity }),
      },
    };
  } catch (err) {
    return toolError(err);
  }
}
