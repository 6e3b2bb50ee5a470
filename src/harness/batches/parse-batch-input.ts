import type { BatchEndpoint, BatchInputError, BatchLine } from "../../core/batches.js";

/** The most errors a refused input file reports (the first ones, in line order). */
const MAX_ERRORS = 100;
/** How long parsing runs before it leaves the event loop, in ms. */
const TURN_MS = 4;
/** The longest custom_id, in characters (as Anthropic's 64; OpenAI documents none). */
export const MAX_CUSTOM_ID = 512;

/** An input file read: its lines, or why it was refused. */
export type ParsedBatchInput =
  | { ok: true; lines: BatchLine[]; model: string | undefined }
  | { ok: false; errors: BatchInputError[] };

/**
 * Reads an OpenAI batch input file (JSONL, one `{custom_id, method, url, body}` per line) as OpenAI
 * validates it: every line is checked and each problem reported with its 1-based line and the
 * parameter at fault, with OpenAI's codes (`invalid_json_line`, `missing_required_parameter`,
 * `duplicate_custom_id`, `invalid_method`, `url_mismatch`, `model_mismatch`, `empty_file`,
 * `too_many_tasks`). Blank lines are skipped (they still count for the line numbers). Every line
 * must name the same model, as OpenAI requires of one batch. The lines are parsed a few ms at a
 * time, leaving the event loop in between: a 30 MB file of 40,000 lines held every other client for
 * seconds when parsed at once.
 */
export async function parseBatchInput(data: Uint8Array, endpoint: BatchEndpoint, maxRequests: number): Promise<ParsedBatchInput> {
  // Each line is decoded on its own: decoding and splitting 30 MB at once is itself a step of
  // hundreds of ms. A byte order mark is dropped before the first line only, as decoding the whole did.
  const first = new TextDecoder("utf-8", { fatal: false });
  const rest = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  let deadline = performance.now() + TURN_MS;
  const errors: BatchInputError[] = [];
  const lines: BatchLine[] = [];
  const seen = new Set<string>();
  let model: { name: string; line: number } | undefined;
  for (let i = 0, from = 0; from <= data.length; i++) {
    const newline = data.indexOf(0x0a, from);
    const to = newline === -1 ? data.length : newline;
    const raw = (i === 0 ? first : rest).decode(data.subarray(from, to));
    from = to + 1;
    if (performance.now() >= deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + TURN_MS;
    }
    const row = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (row.trim() === "") continue;
    const line = i + 1;
    const fail = (code: string, message: string, param?: string) => {
      errors.push({ code, message, line, ...(param !== undefined && { param }) });
    };
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch {
      fail("invalid_json_line", "This line is not parseable as valid JSON.");
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      fail("invalid_json_line", "This line is not a JSON object.");
      continue;
    }
    const entry = value as Record<string, unknown>;
    const customId = entry.custom_id;
    if (typeof customId !== "string" || customId === "") {
      fail(
        "missing_required_parameter",
        customId === undefined ? "Missing required parameter: 'custom_id'." : "'custom_id' must be a non-empty string.",
        "custom_id",
      );
      continue;
    }
    if (customId.length > MAX_CUSTOM_ID) {
      fail("invalid_value", `'custom_id' is longer than ${MAX_CUSTOM_ID} characters.`, "custom_id");
      continue;
    }
    if (seen.has(customId)) {
      fail(
        "duplicate_custom_id",
        "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
        "custom_id",
      );
      continue;
    }
    seen.add(customId);
    if (entry.method !== "POST") {
      fail("invalid_method", `The method of this request must be 'POST' (got ${describe(entry.method)}).`, "method");
      continue;
    }
    if (entry.url !== endpoint) {
      fail(
        "url_mismatch",
        `The provided URL ${describe(entry.url)} does not match the endpoint of the batch ('${endpoint}'). Every request in a batch must use the batch's endpoint.`,
        "url",
      );
      continue;
    }
    const body = entry.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      fail("missing_required_parameter", "Missing required parameter: 'body' (a JSON object).", "body");
      continue;
    }
    const name = (body as Record<string, unknown>).model;
    if (typeof name === "string") {
      if (model === undefined) model = { name, line };
      else if (name !== model.name) {
        fail(
          "model_mismatch",
          `The provided model ${describe(name)} does not match the model of the other requests in this batch ('${model.name.slice(0, 200)}', line ${model.line}). Every request in a batch must use the same model.`,
          "body.model",
        );
        continue;
      }
    }
    lines.push({ index: lines.length, customId, body: body as Record<string, unknown> });
  }
  if (errors.length === 0 && lines.length === 0) {
    errors.push({ code: "empty_file", message: "The input file has no requests." });
  }
  if (errors.length === 0 && lines.length > maxRequests) {
    errors.push({
      code: "too_many_tasks",
      message: `The input file has ${lines.length} requests; a batch may have at most ${maxRequests} (batches.maxRequests).`,
    });
  }
  if (errors.length > 0) return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
  return { ok: true, lines, model: model?.name };
}

function describe(value: unknown): string {
  if (typeof value === "string") return `'${value.slice(0, 200)}'`;
  if (value === undefined) return "nothing";
  return JSON.stringify(value)?.slice(0, 200) ?? String(value);
}
