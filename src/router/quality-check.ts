import { compileSchema, type FinishReason, GatewayError, type ResponseFormat } from "../core/index.js";

/** Which checks a route applies to answers (see the route's `quality` setting). */
export interface QualityPolicy {
  /** An answer with no text and no tool call. */
  emptyOutput: boolean;
  /** A degenerate loop: the output's tail is one short phrase repeated over and over. */
  repetition: boolean;
  /** JSON mode: the answer must parse; with a schema, it must also match it. */
  json: boolean;
  /** Every tool call's arguments must be a JSON object. */
  toolArguments: boolean;
}

/** Anthropic's finish reason for a turn a server tool paused (see QualityWatch.onFinish). */
const PAUSED = "pause_turn";

/** The longest phrase (in characters) that counts as a repeating unit, and how much repetition is a loop. */
const MAX_PERIOD = 100;
const MIN_REPEATS = 8;
const MIN_SPAN = 200;
/**
 * A loop still going this many times past that while the answer streams is a runaway one, failed at
 * once rather than at the finish: a list, test code or a chorus may repeat a line 8+ times and go on
 * with other text, so a shorter repetition is judged only by the answer's own tail, at its finish.
 */
const RUNAWAY = 3;
/** The answer is looked at every this many characters of its text, counted from its start (not by delta). */
const CHECK_EVERY = 64;
/** The most of the answer's tail a check reads: the longest runaway loop's span. */
const TAIL = Math.max(RUNAWAY * MIN_SPAN, RUNAWAY * MIN_REPEATS * MAX_PERIOD);

function failed(check: string, message: string, target: string): GatewayError {
  return new GatewayError("upstream_error", `${target}: quality check '${check}' failed: ${message}`, {
    target,
    retryable: true,
  });
}

/**
 * Watches one answer as it streams and says when it fails a quality check: the router then treats
 * the target as failed (retry, fail over), like any other failure.
 */
export class QualityWatch {
  readonly #policy: QualityPolicy;
  readonly #format: ResponseFormat | undefined;
  readonly #target: string;
  #tail = "";
  #sinceCheck = 0;

  constructor(policy: QualityPolicy, format: ResponseFormat | undefined, target: string) {
    this.#policy = policy;
    this.#format = format;
    this.#target = target;
  }

  /**
   * The check that failed (`check` names it in metrics), or undefined. Only a runaway loop fails
   * here, mid-answer; it is looked for at the same places of the text however the upstream cut it
   * into deltas (every CHECK_EVERY characters from its start), so that whether an answer fails does
   * not depend on its chunking.
   */
  onText(delta: string): { check: string; error: GatewayError } | undefined {
    if (!this.#policy.repetition) return undefined;
    let at = 0;
    while (delta.length - at >= CHECK_EVERY - this.#sinceCheck) {
      const next = at + CHECK_EVERY - this.#sinceCheck;
      this.#tail = (this.#tail + delta.slice(at, next)).slice(-TAIL);
      at = next;
      this.#sinceCheck = 0;
      const unit = repeatingUnit(this.#tail, RUNAWAY);
      if (unit !== undefined) return this.#loops(unit);
    }
    this.#tail = (this.#tail + delta.slice(at)).slice(-TAIL);
    this.#sinceCheck += delta.length - at;
    return undefined;
  }

  #loops(unit: string): { check: string; error: GatewayError } {
    return {
      check: "repetition",
      error: failed("repetition", `the output loops on ${JSON.stringify(unit.slice(0, 40))}`, this.#target),
    };
  }

  onToolCall(name: string, args: string): { check: string; error: GatewayError } | undefined {
    if (!this.#policy.toolArguments) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(args === "" ? "{}" : args);
    } catch {
      return { check: "tool_arguments", error: failed("tool_arguments", `arguments of ${name} are not JSON`, this.#target) };
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return {
        check: "tool_arguments",
        error: failed("tool_arguments", `arguments of ${name} are not a JSON object`, this.#target),
      };
    }
    return undefined;
  }

  /**
   * At the finish: an empty answer fails, and a JSON-mode answer must parse (and match its schema) —
   * unless it was cut off by the token limit the client set (or a content filter): such an answer is
   * what the client asked for and reaches it as truncated, not as a failure. A refusal (`refused`:
   * the model said it as one, Anthropic's or OpenAI's) is an answer too, neither empty nor bad JSON:
   * `text` is then the answer's text beside the refusal. An answer that one of the client's stop
   * sequences ended (`stopSequence`, where the target says which) may be empty: the client's stop
   * came before the first word. A turn the target paused (`raw`, its own finish reason: Anthropic's
   * `pause_turn`, when a server tool such as web search ran long) is not an answer yet but the part
   * of one the client sends back to have it go on, often with no text (only the tool's blocks):
   * neither check applies.
   */
  onFinish(
    text: string,
    toolCalls: number,
    reason: FinishReason = "stop",
    refused = false,
    stopSequence?: string,
    raw?: string,
  ): { check: string; error: GatewayError } | undefined {
    if (refused || raw === PAUSED) return undefined;
    if (
      this.#policy.emptyOutput &&
      toolCalls === 0 &&
      text.trim() === "" &&
      reason !== "length" &&
      reason !== "content_filter" &&
      stopSequence === undefined
    ) {
      return { check: "empty_output", error: failed("empty_output", "the answer is empty", this.#target) };
    }
    // The answer's own tail: a loop it ends in (also one cut by the token limit, the usual end of a
    // degenerate loop); a repetition that ended before other text is not one.
    if (this.#policy.repetition) {
      const unit = repeatingUnit(this.#tail);
      if (unit !== undefined) return this.#loops(unit);
    }
    if (reason === "length" || reason === "content_filter") return undefined;
    const format = this.#format;
    if (!this.#policy.json || toolCalls > 0 || (format?.type !== "json" && format?.type !== "json_schema")) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { check: "json", error: failed("json", "the answer is not valid JSON", this.#target) };
    }
    if (format.type === "json_schema") {
      // The dialect refused a schema that does not compile; one tandem does not compile (beyond its
      // limits, of a dialect ajv does not know) is left to the target, as the answer's check is.
      const compiled = compileSchema(format.schema);
      const validate = "validate" in compiled ? compiled.validate : undefined;
      if (validate && !validate(value)) {
        const first = validate.errors?.[0];
        const where = first ? `${first.instancePath || "/"} ${first.message ?? ""}` : "";
        return {
          check: "json_schema",
          error: failed("json_schema", `the answer does not match the schema (${where.trim()})`, this.#target),
        };
      }
    }
    return undefined;
  }
}

/**
 * The repeating unit when the text's tail is one unit over and over (with a letter in it), else
 * undefined. `times`: how many times the loop's least repeats and span it must go on for.
 */
export function repeatingUnit(text: string, times = 1): string | undefined {
  for (let period = 2; period <= MAX_PERIOD; period++) {
    const span = times * Math.max(MIN_SPAN, MIN_REPEATS * period);
    if (text.length < span) return undefined;
    const start = text.length - span;
    let periodic = true;
    for (let i = start + period; i < text.length; i++) {
      if (text.charCodeAt(i) !== text.charCodeAt(i - period)) {
        periodic = false;
        break;
      }
    }
    if (!periodic) continue;
    const unit = text.slice(text.length - period);
    // Rules (=====), separators (-|-|) and whitespace are layout, not a loop.
    if (/\p{L}/u.test(unit)) return unit;
  }
  return undefined;
}
