import type { EventSourceMessage } from "eventsource-parser";

type Json = Record<string, unknown>;

/**
 * A whole Response object, from a server that answered a streamed Responses request with one,
 * retold as the events the Responses API streams for it, so the stream's reader and the same-wire
 * tap read it as any stream, and a streaming client gets the events it expects: `response.created`
 * (the Response in progress, no output yet), then per output item `response.output_item.added`, its
 * parts' `.added`, text deltas (the whole text in one) and `.done` events (a message's text and
 * refusal parts and their annotations, a reasoning item's summary and text, a function call's
 * arguments), `response.output_item.done` with the item as the Response has it, and last the
 * Response itself in `response.completed` (`response.incomplete` or `response.failed` by its status).
 * Events are numbered from 0, as a stream's are.
 */
export function responseAsEvents(json: unknown): EventSourceMessage[] {
  const response = object(json) ?? {};
  const events: EventSourceMessage[] = [];
  const emit = (type: string, fields: Json) =>
    events.push({ id: undefined, event: type, data: JSON.stringify({ type, sequence_number: events.length, ...fields }) });
  const output = Array.isArray(response.output) ? response.output : [];
  emit("response.created", { response: { ...response, status: "in_progress", output: [], usage: null } });
  for (const [outputIndex, raw] of output.entries()) {
    const item = object(raw);
    if (item === undefined) continue;
    const at = { item_id: item.id, output_index: outputIndex };
    switch (item.type) {
      case "message": {
        emit("response.output_item.added", { output_index: outputIndex, item: { ...item, status: "in_progress", content: [] } });
        for (const [contentIndex, rawPart] of list(item.content).entries()) {
          const part = object(rawPart) ?? {};
          const inPart = { ...at, content_index: contentIndex };
          if (part.type === "output_text" && typeof part.text === "string") {
            const logprobs = Array.isArray(part.logprobs) ? { logprobs: part.logprobs } : {};
            const empty = { ...part, text: "", annotations: [], ...("logprobs" in part && { logprobs: [] }) };
            emit("response.content_part.added", { ...inPart, part: empty });
            if (part.text !== "") emit("response.output_text.delta", { ...inPart, delta: part.text, ...logprobs });
            for (const [annotationIndex, annotation] of list(part.annotations).entries())
              emit("response.output_text.annotation.added", { ...inPart, annotation_index: annotationIndex, annotation });
            emit("response.output_text.done", { ...inPart, text: part.text, ...logprobs });
          } else if (part.type === "refusal" && typeof part.refusal === "string") {
            emit("response.content_part.added", { ...inPart, part: { ...part, refusal: "" } });
            if (part.refusal !== "") emit("response.refusal.delta", { ...inPart, delta: part.refusal });
            emit("response.refusal.done", { ...inPart, refusal: part.refusal });
          } else emit("response.content_part.added", { ...inPart, part });
          emit("response.content_part.done", { ...inPart, part });
        }
        break;
      }
      case "function_call": {
        const args = typeof item.arguments === "string" ? item.arguments : "";
        emit("response.output_item.added", {
          output_index: outputIndex,
          item: { ...item, status: "in_progress", arguments: "" },
        });
        if (args !== "") emit("response.function_call_arguments.delta", { ...at, delta: args });
        emit("response.function_call_arguments.done", { ...at, arguments: args });
        break;
      }
      case "reasoning": {
        const { content, ...added } = item;
        emit("response.output_item.added", { output_index: outputIndex, item: { ...added, summary: [] } });
        for (const [summaryIndex, rawPart] of list(item.summary).entries()) {
          const part = object(rawPart) ?? {};
          const text = typeof part.text === "string" ? part.text : "";
          const inPart = { ...at, summary_index: summaryIndex };
          emit("response.reasoning_summary_part.added", { ...inPart, part: { ...part, text: "" } });
          if (text !== "") emit("response.reasoning_summary_text.delta", { ...inPart, delta: text });
          emit("response.reasoning_summary_text.done", { ...inPart, text });
          emit("response.reasoning_summary_part.done", { ...inPart, part });
        }
        for (const [contentIndex, rawPart] of list(content).entries()) {
          const text = object(rawPart)?.text;
          if (typeof text !== "string") continue;
          const inPart = { ...at, content_index: contentIndex };
          if (text !== "") emit("response.reasoning_text.delta", { ...inPart, delta: text });
          emit("response.reasoning_text.done", { ...inPart, text });
        }
        break;
      }
      default:
        // A hosted tool's call, an item type newer than tandem: added and done whole.
        emit("response.output_item.added", { output_index: outputIndex, item });
    }
    emit("response.output_item.done", { output_index: outputIndex, item });
  }
  const final =
    response.status === "incomplete"
      ? "response.incomplete"
      : response.status === "failed"
        ? "response.failed"
        : "response.completed";
  emit(final, { response });
  return events;
}

function object(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
