import { z } from "zod";
import { modelSchema, schemaNameSchema } from "../chat-completions-api.js";

/**
 * Lenient schema of a POST /v1/responses body (after the OpenAI API reference and the openai-node
 * `ResponseCreateParams`). Optional fields may be null, as the SDKs send them; ranges are OpenAI's
 * own, so a bad value gets a 400 naming the field. Unknown fields are kept (`.loose()`): a native
 * Responses upstream may know them. Input items are checked one by one by the one item normaliser
 * (../state/normalize-input-items.ts); an item type tandem cannot carry is left out with a warning.
 */

const functionTool = z
  .object({
    type: z.literal("function"),
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  })
  .loose();

/** Function tools are checked in full; other tool types (hosted tools) only need a type. */
export const toolSchema = z.object({ type: z.string() }).loose();
export { functionTool as functionToolSchema };
export type FunctionToolBody = z.output<typeof functionTool>;

export const toolChoiceSchema = z.union([
  z.enum(["auto", "none", "required"]),
  z.object({ type: z.literal("function"), name: z.string().min(1) }).loose(),
  z.object({ type: z.string() }).loose(),
]);

export const textFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).loose(),
  z.object({ type: z.literal("json_object") }).loose(),
  z
    .object({
      type: z.literal("json_schema"),
      name: schemaNameSchema,
      schema: z.record(z.string(), z.unknown()),
      description: z.string().nullish(),
      strict: z.boolean().nullish(),
    })
    .loose(),
]);

/** `Shared.ReasoningEffort` (openai-node 6.49 and 7.60 alike). */
export const reasoningEffortSchema = z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]);

export const responsesRequestSchema = z
  .object({
    model: modelSchema,
    input: z.union([z.string(), z.array(z.unknown())]).nullish(),
    instructions: z.string().nullish(),
    previous_response_id: z.string().min(1).nullish(),
    conversation: z.union([z.string().min(1), z.object({ id: z.string().min(1) }).loose()]).nullish(),
    store: z.boolean().nullish(),
    tools: z.array(toolSchema).nullish(),
    tool_choice: toolChoiceSchema.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z
      .object({ format: textFormatSchema.nullish(), verbosity: z.enum(["low", "medium", "high"]).nullish() })
      .loose()
      .nullish(),
    reasoning: z
      .object({
        effort: reasoningEffortSchema.nullish(),
        summary: z.enum(["auto", "concise", "detailed"]).nullish(),
        generate_summary: z.enum(["auto", "concise", "detailed"]).nullish(),
      })
      .loose()
      .nullish(),
    include: z.array(z.string()).nullish(),
    // OpenAI's own minimum.
    max_output_tokens: z.number().int().min(16).nullish(),
    max_tool_calls: z.number().int().min(1).nullish(),
    truncation: z.enum(["auto", "disabled"]).nullish(),
    // Checked by parseMetadata (../state/), in OpenAI's words, as the Conversations API checks it.
    metadata: z.unknown().optional(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    user: z.string().nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_obfuscation: z.boolean().nullish() }).loose().nullish(),
    background: z.boolean().nullish(),
    service_tier: z.string().nullish(),
    prompt_cache_key: z.string().nullish(),
    safety_identifier: z.string().nullish(),
  })
  .loose();

export type ResponsesRequestBody = z.output<typeof responsesRequestSchema>;

/**
 * POST /v1/responses/compact (OpenAI's ResponseCompactParams): the fields it shares with a
 * Responses request, checked as there, and its cache retention. Other fields a client adds to it
 * (the Codex CLI sends its tools and reasoning settings) are accepted and play no part.
 */
export const compactRequestSchema = responsesRequestSchema
  .pick({ model: true, input: true, instructions: true, previous_response_id: true, prompt_cache_key: true })
  .extend({ prompt_cache_retention: z.string().nullish() })
  .loose();

/** The fields the schema knows; everything else in a body is kept as `extra`. */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(responsesRequestSchema.shape));
