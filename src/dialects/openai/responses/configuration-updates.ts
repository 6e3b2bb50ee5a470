import type { ChatRequest } from "../../../core/index.js";
import { GatewayError } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { formatPath } from "../../shared/index.js";
import { reasoningControl, responseFormat } from "./response-settings.js";
import { reasoningEffortSchema, textFormatSchema } from "./responses-api.js";

/**
 * `configuration_update` items (openai-node 7's ResponseConfigurationUpdateItemParam): a change of
 * the conversation's reasoning effort or text format, in effect from that item on until a later one
 * replaces it. A Responses-native target reads them itself (they go to it as sent); for any other,
 * the latest ones in the composed conversation (stored history, then the new input) set the
 * request's reasoning control and response format, over the request's own `reasoning.effort` and
 * `text.format`, as a later setting does. A `null` effort leaves the request's own in force.
 */
export function applyConfigurationUpdates(items: readonly StateItem[], chat: Omit<ChatRequest, "messages">): void {
  let effort: unknown;
  let format: unknown;
  for (const item of items) {
    if (item.type !== "configuration_update") continue;
    const reasoning = item.reasoning as { effort?: unknown } | null | undefined;
    if (reasoning?.effort !== undefined) effort = reasoning.effort;
    const text = item.text as { format?: unknown } | null | undefined;
    if (text?.format != null) format = text.format;
  }
  // Items from the history were checked when they were sent; one stored through another way is read leniently.
  const parsedEffort = reasoningEffortSchema.safeParse(effort);
  if (parsedEffort.success) chat.reasoning = reasoningControl(parsedEffort.data);
  const parsedFormat = textFormatSchema.safeParse(format);
  if (parsedFormat.success) chat.responseFormat = responseFormat(parsedFormat.data);
}

/** A `configuration_update` of the new input, checked: a bad effort or format is a 400 naming the field. */
export function checkConfigurationUpdate(item: Record<string, unknown>, param: string): void {
  const check = (value: unknown, schema: typeof reasoningEffortSchema | typeof textFormatSchema, at: string) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return;
    const issue = parsed.error.issues[0];
    const field = `${param}.${at}${issue && issue.path.length > 0 ? `.${formatPath(issue.path)}` : ""}`;
    throw new GatewayError("invalid_request", `Invalid value for '${field}': ${issue?.message ?? "invalid value"}.`, {
      param: field,
    });
  };
  const reasoning = item.reasoning as { effort?: unknown } | null | undefined;
  if (reasoning?.effort != null) check(reasoning.effort, reasoningEffortSchema, "reasoning.effort");
  const text = item.text as { format?: unknown } | null | undefined;
  if (text != null) check(text.format, textFormatSchema, "text.format");
}
