import { compactJson, type FinishReason, jsonObjectText, type ResponseMeta, type Usage } from "../../core/index.js";
import type { RequestRecord } from "../shared/index.js";
import type { OllamaMetrics } from "./ollama-server-api.js";

/**
 * The extra field on the final chunk (and on a non-streamed answer) that says the answer was
 * degraded: a lower tier answered, or the stream switched target mid-way. Clients ignore unknown
 * fields, so this never breaks a parser; the same reason is in the `x-tandem-degraded` header.
 */
export const DEGRADED_FIELD = "tandem_degraded";

/**
 * The extra field on the final chunk (and on a non-streamed answer) with what tandem warned of as
 * the answer ended (ResponseMeta.notices: its tool loop stopped at its limit), which a stream's
 * headers left too early to hold; the same entries are in `x-tandem-warnings` on a whole answer.
 */
export const WARNINGS_FIELD = "tandem_warnings";

/** Ollama reports only why the model stopped: `length` when it hit the limit, else `stop` (tool calls included). */
export function ollamaDoneReason(reason: FinishReason): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

/**
 * Ollama's timing and token fields, in nanoseconds. `load_duration` is the time the request waited
 * for its model to be loaded, where the target says (`loadMs`: the embedded engine), else 0 (a
 * remote target loads nothing tandem can see); the prompt phase is the time to the first event less
 * that load, the eval phase the rest. Durations but the load are at least 1 ns, so clients computing
 * tokens per second never divide by zero.
 */
export function ollamaMetrics(record: RequestRecord, usage: Usage, loadMs = 0): OllamaMetrics {
  const totalMs = performance.now() - record.startedAt;
  const firstMs = Math.min(record.firstEventMs ?? totalMs, totalMs);
  const load = Math.min(loadMs, firstMs);
  const promptMs = firstMs - load;
  const ns = (ms: number) => Math.max(1, Math.round(ms * 1e6));
  return {
    total_duration: ns(totalMs),
    load_duration: load > 0 ? ns(load) : 0,
    prompt_eval_count: usage.inputTokens,
    prompt_eval_duration: ns(promptMs),
    eval_count: usage.outputTokens,
    eval_duration: ns(totalMs - firstMs),
  };
}

/** The fields every final object carries after `done`. */
export function ollamaFinalFields(
  reason: FinishReason,
  usage: Usage,
  meta: ResponseMeta,
  record: RequestRecord,
  /** How long the request waited for its model's load (the start event's `loadMs`), where known. */
  loadMs?: number,
): Record<string, unknown> {
  return {
    done: true,
    done_reason: ollamaDoneReason(reason),
    ...ollamaMetrics(record, usage, loadMs),
    ...(meta.degraded === undefined ? {} : { [DEGRADED_FIELD]: meta.degraded }),
    ...(meta.notices === undefined || meta.notices.length === 0 ? {} : { [WARNINGS_FIELD]: meta.notices }),
  };
}

/**
 * Tool-call arguments as the object Ollama sends, as its JSON text: the model's own text when it is
 * one JSON object, to be spliced in as written (core/json-splice.ts: parsed and serialised again, an
 * integer past 2^53 or `1.10` would change), without the whitespace between its tokens (a line break
 * would end an NDJSON line; Ollama writes its objects so); else `{}` (a model that produced broken
 * JSON still produced a call: clients get it with no arguments).
 */
export function argumentsJson(text: string): string {
  const object = jsonObjectText(text);
  return object === undefined ? "{}" : compactJson(object);
}
