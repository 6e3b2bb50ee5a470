/**
 * Ollama's wire objects as a schema, written from ollama/ollama's api/types.go (field names, types,
 * omitempty) and ollama-js's interfaces: each check returns the problems it found in one answer
 * (none: it is what Ollama would send). A field with `omitempty` is left out when empty (never "",
 * [], 0 or false on the wire); one without it is always there. Used by the ollama-spec-shapes tests.
 */

export type Json = Record<string, unknown>;

/** Go's time.Time in JSON: RFC 3339 with an offset or Z, fractional seconds optional. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const METRICS = ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"];
const DONE_REASONS = new Set(["stop", "length", "load", "unload"]);
/** Fields tandem adds beside Ollama's (clients ignore unknown fields): the degraded note. */
const EXTENSIONS = new Set(["tandem_degraded"]);

export function problems(where: string, value: Json, allowed: readonly string[], out: string[]): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key) && !EXTENSIONS.has(key)) out.push(`${where}: unknown field '${key}'`);
}

export function checkTime(where: string, value: unknown, out: string[]): void {
  if (typeof value !== "string" || !RFC3339.test(value)) out.push(`${where}: not an RFC 3339 time: ${JSON.stringify(value)}`);
}

function checkOmitEmptyString(where: string, value: unknown, out: string[]): void {
  if (value === undefined) return;
  if (typeof value !== "string" || value === "") out.push(`${where}: omitempty string is ${JSON.stringify(value)}`);
}

/** api.Logprob: TokenLogprob (token, logprob, bytes omitempty) and top_logprobs omitempty. */
function checkLogprobs(where: string, value: unknown, out: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length === 0) {
    out.push(`${where}: omitempty list is ${JSON.stringify(value)}`);
    return;
  }
  value.forEach((entry: Json, i) => {
    const at = `${where}[${i}]`;
    problems(at, entry, ["token", "logprob", "bytes", "top_logprobs"], out);
    if (typeof entry.token !== "string" || typeof entry.logprob !== "number") out.push(`${at}: token/logprob`);
    if (entry.top_logprobs !== undefined && (!Array.isArray(entry.top_logprobs) || entry.top_logprobs.length === 0))
      out.push(`${at}.top_logprobs: omitempty list is ${JSON.stringify(entry.top_logprobs)}`);
  });
}

function checkMetrics(where: string, value: Json, done: boolean, out: string[]): void {
  for (const key of METRICS) {
    const v = value[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < 0) out.push(`${where}.${key}: not a non-negative integer: ${v}`);
    if (!done) out.push(`${where}.${key}: on a chunk that is not done`);
  }
  if (done && value.done_reason !== "load" && value.done_reason !== "unload") {
    for (const key of ["total_duration", "eval_count", "eval_duration", "prompt_eval_count"])
      if (value[key] === undefined) out.push(`${where}: final object without ${key}`);
  }
}

function checkDone(where: string, value: Json, out: string[]): void {
  if (typeof value.done !== "boolean") out.push(`${where}.done: ${JSON.stringify(value.done)}`);
  if (value.done === true) {
    if (!DONE_REASONS.has(value.done_reason as string)) out.push(`${where}.done_reason: ${JSON.stringify(value.done_reason)}`);
  } else if (value.done_reason !== undefined) out.push(`${where}.done_reason on a chunk that is not done`);
}

/** api.ToolCall: id omitempty, function {index (no omitempty), name, arguments (an object)}. */
function checkToolCalls(where: string, value: unknown, out: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length === 0) {
    out.push(`${where}: omitempty list is ${JSON.stringify(value)}`);
    return;
  }
  value.forEach((call: Json, i) => {
    const at = `${where}[${i}]`;
    problems(at, call, ["id", "function"], out);
    checkOmitEmptyString(`${at}.id`, call.id, out);
    const fn = call.function as Json | undefined;
    if (!fn || typeof fn !== "object") {
      out.push(`${at}.function missing`);
      return;
    }
    problems(`${at}.function`, fn, ["index", "name", "arguments"], out);
    if (!Number.isInteger(fn.index)) out.push(`${at}.function.index: ${JSON.stringify(fn.index)}`);
    if (typeof fn.name !== "string") out.push(`${at}.function.name`);
    if (typeof fn.arguments !== "object" || fn.arguments === null || Array.isArray(fn.arguments))
      out.push(`${at}.function.arguments is not an object: ${JSON.stringify(fn.arguments)}`);
  });
}

/** api.ChatResponse (streamed chunk or whole answer). */
export function chatProblems(value: Json, where = "chat"): string[] {
  const out: string[] = [];
  if ("error" in value) return [`${where}: error ${JSON.stringify(value.error)}`];
  problems(
    where,
    value,
    ["model", "remote_model", "remote_host", "created_at", "message", "done", "done_reason", "logprobs", ...METRICS],
    out,
  );
  if (typeof value.model !== "string" || value.model === "") out.push(`${where}.model`);
  checkTime(`${where}.created_at`, value.created_at, out);
  const message = value.message as Json | undefined;
  if (!message || typeof message !== "object") out.push(`${where}.message missing`);
  else {
    problems(
      `${where}.message`,
      message,
      ["role", "content", "thinking", "images", "tool_calls", "tool_name", "tool_call_id"],
      out,
    );
    if (message.role !== "assistant") out.push(`${where}.message.role: ${JSON.stringify(message.role)}`);
    if (typeof message.content !== "string") out.push(`${where}.message.content: ${JSON.stringify(message.content)}`);
    checkOmitEmptyString(`${where}.message.thinking`, message.thinking, out);
    checkToolCalls(`${where}.message.tool_calls`, message.tool_calls, out);
  }
  checkDone(where, value, out);
  checkMetrics(where, value, value.done === true, out);
  checkLogprobs(`${where}.logprobs`, value.logprobs, out);
  return out;
}

/** api.GenerateResponse. */
export function generateProblems(value: Json, where = "generate"): string[] {
  const out: string[] = [];
  if ("error" in value) return [`${where}: error ${JSON.stringify(value.error)}`];
  problems(
    where,
    value,
    [
      "model",
      "remote_model",
      "remote_host",
      "created_at",
      "response",
      "thinking",
      "done",
      "done_reason",
      "context",
      "tool_calls",
      "logprobs",
      ...METRICS,
    ],
    out,
  );
  if (typeof value.model !== "string" || value.model === "") out.push(`${where}.model`);
  checkTime(`${where}.created_at`, value.created_at, out);
  if (typeof value.response !== "string") out.push(`${where}.response: ${JSON.stringify(value.response)}`);
  checkOmitEmptyString(`${where}.thinking`, value.thinking, out);
  if (
    value.context !== undefined &&
    (!Array.isArray(value.context) || value.context.length === 0 || !value.context.every(Number.isInteger))
  )
    out.push(`${where}.context: ${JSON.stringify(value.context)}`);
  checkDone(where, value, out);
  checkMetrics(where, value, value.done === true, out);
  checkLogprobs(`${where}.logprobs`, value.logprobs, out);
  return out;
}

/** A stream: every line valid, exactly one `done` line and it is the last. */
export function streamProblems(text: string, check: (value: Json, where: string) => string[]): string[] {
  const all = ndjsonLines(text);
  const out = all.flatMap((value, i) => check(value, `line ${i}`));
  const done = all.filter((v) => v.done === true);
  if (done.length !== 1 || all.at(-1)?.done !== true)
    out.push(`stream: ${done.length} done lines, last done=${all.at(-1)?.done}`);
  return out;
}

/** api.ModelDetails: every field without omitempty (context_length and embedding_length have it). */
export function detailsProblems(where: string, value: unknown, out: string[]): void {
  if (typeof value !== "object" || value === null) {
    out.push(`${where} missing`);
    return;
  }
  const d = value as Json;
  problems(
    where,
    d,
    [
      "parent_model",
      "format",
      "family",
      "families",
      "parameter_size",
      "quantization_level",
      "context_length",
      "embedding_length",
    ],
    out,
  );
  for (const key of ["parent_model", "format", "family", "parameter_size", "quantization_level"])
    if (typeof d[key] !== "string") out.push(`${where}.${key}: ${JSON.stringify(d[key])}`);
  if (!Array.isArray(d.families)) out.push(`${where}.families: ${JSON.stringify(d.families)}`);
}

/** An NDJSON body's objects, one a line. */
export function ndjsonLines(text: string): Json[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Json);
}
