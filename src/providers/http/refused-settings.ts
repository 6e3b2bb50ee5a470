import { createHash } from "node:crypto";
import { GatewayError } from "../../core/index.js";
import { MAX_REMEMBERED_MODELS, REMEMBERED_MS } from "./remembered-models.js";

/**
 * A setting an upstream's 400 said its model does not take: the field as the upstream named it
 * (`reasoning_effort`, `reasoning.effort`, `top_p`) and the upstream's message, which may list the
 * values the model does take.
 */
export interface Refusal {
  field: string;
  message: string;
}

/** Reads which setting a failed request's error refused; undefined when the error is not such a refusal. */
export type RefusalReader = (error: GatewayError) => Refusal | undefined;

/**
 * How a body does without a setting its upstream refused: edits the body in place, and returns what to
 * name in `x-tandem-warnings` ("" when nothing the client asked for is lost, such as a field renamed),
 * or false when it cannot (the field is not in the body).
 */
export type SettingFix = (body: Record<string, unknown>, refusal: Refusal) => string | false;

/** How many times one request is sent again, each time without one more refused setting. */
const MAX_RESENDS = 4;

/**
 * Settings an upstream's models refused, learned from their 400s: a translated request is sent again
 * without what its model refused, and later requests to that model are sent without it from the start.
 * What a client of another dialect asked for that the chosen model does not take (a reasoning effort to
 * gpt-4o, a temperature to an OpenAI reasoning model, `max_tokens` where only `max_completion_tokens`
 * is read, temperature and top_p together to Claude models that take one) then costs one round trip
 * once, not the request; each such setting is named in `x-tandem-warnings`. Only for bodies tandem
 * builds: a same-wire body is the client's own, and its upstream's 400 goes back to the client as it came.
 * Every body sent, the first and each one after, passes the egress audit (the sender's own gate).
 */
export class RefusedSettings {
  readonly #fixes: Readonly<Record<string, SettingFix>>;
  readonly #read: RefusalReader;
  /** Model id -> refused field -> the refusal and until when it is remembered. */
  readonly #learned = new Map<string, Map<string, { refusal: Refusal; until: number }>>();

  constructor(fixes: Readonly<Record<string, SettingFix>>, read: RefusalReader) {
    this.#fixes = fixes;
    this.#read = read;
  }

  /**
   * Sends `body` with `send` (which reads the body when called, so each call sends its current form),
   * first without what `model` is known to refuse, then again without each further setting a refusal
   * names. `onUnsent` is told what was left out once an answer is accepted.
   */
  async send<T>(
    model: string,
    body: Record<string, unknown>,
    onUnsent: ((fields: readonly string[]) => void) | undefined,
    send: () => Promise<T>,
  ): Promise<T> {
    const unsent: string[] = [];
    const known = this.#learned.get(model);
    if (known !== undefined) {
      const now = Date.now();
      for (const [field, { refusal, until }] of known) {
        if (until < now) known.delete(field);
        else this.#fix(body, refusal, unsent);
      }
    }
    const fixed = new Set<string>();
    for (;;) {
      try {
        const answer = await send();
        if (unsent.length > 0) onUnsent?.(unsent);
        return answer;
      } catch (err) {
        const refusal = fixed.size < MAX_RESENDS && err instanceof GatewayError ? this.#read(err) : undefined;
        // A refusal the body cannot do without (a field it does not hold, or one fixed already) is the answer.
        if (refusal === undefined || fixed.has(refusal.field) || !this.#fix(body, refusal, unsent)) throw err;
        fixed.add(refusal.field);
        this.#learn(model, refusal);
      }
    }
  }

  #fix(body: Record<string, unknown>, refusal: Refusal, unsent: string[]): boolean {
    const fix = this.#fixes[refusal.field];
    const named = fix === undefined ? false : fix(body, refusal);
    if (named === false) return false;
    if (named !== "" && !unsent.includes(named)) unsent.push(named);
    return true;
  }

  #learn(model: string, refusal: Refusal): void {
    let known = this.#learned.get(model);
    if (known === undefined) {
      if (this.#learned.size >= MAX_REMEMBERED_MODELS) this.#learned.delete(this.#learned.keys().next().value as string);
      known = new Map();
      this.#learned.set(model, known);
    }
    known.set(refusal.field, { refusal, until: Date.now() + REMEMBERED_MS });
  }
}

/** A fix that leaves `field` out (and `alongWith`, which means nothing without it), named by `field`. */
export function leaveOut(field: string, ...alongWith: string[]): SettingFix {
  return (body) => {
    if (!(field in body)) return false;
    delete body[field];
    for (const other of alongWith) delete body[other];
    return field;
  };
}

/** A fix that sends `field`'s value under `to` instead (`max_tokens` as `max_completion_tokens`): nothing is lost. */
export function rename(field: string, to: string): SettingFix {
  return (body) => {
    if (!(field in body) || to in body) return false;
    body[to] = body[field];
    delete body[field];
    return "";
  };
}

/**
 * The level among `supported` nearest `asked`, on a scale of `levels` (least first), the higher on a
 * tie: `asked` itself when supported. Undefined when `asked` is on no scale or no supported level is.
 * An effort level a model does not take goes as this one (each wire reads its own refusal's list).
 */
export function nearestLevel(asked: string, supported: readonly string[], levels: readonly string[]): string | undefined {
  if (supported.includes(asked)) return asked;
  const rank = levels.indexOf(asked);
  if (rank < 0) return undefined;
  const nearest = supported
    .map((level) => levels.indexOf(level))
    .filter((at) => at >= 0)
    .sort((a, b) => Math.abs(a - rank) - Math.abs(b - rank) || b - a);
  return nearest.length === 0 ? undefined : levels[nearest[0] as number];
}

/**
 * The most output tokens a refusal says the model takes: OpenAI's "max_tokens is too large: 32000.
 * This model supports at most 16384 completion tokens", "expected a value <= 12288" (compatible
 * servers), Anthropic's "max_tokens: 100000 > 64000, which is the maximum allowed".
 */
export function limitInRefusal(message: string): number | undefined {
  return countIn(message, /supports at most (\d+)|<=\s*(\d+)|> (\d+), which is the maximum/i);
}

/** The fewest output tokens a refusal says the model takes: the Responses API's "integer below minimum value. Expected a value >= 16". */
export function minimumInRefusal(message: string): number | undefined {
  return countIn(message, /below minimum value\. Expected a value >=\s*(\d+)/i);
}

/** The count `pattern` finds in a refusal's message (its first group that matched), when it is a positive whole number. */
function countIn(message: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(message);
  const count = Number(m?.slice(1).find((group) => group !== undefined));
  return Number.isSafeInteger(count) && count > 0 ? count : undefined;
}

/**
 * A fix for an output limit outside the model's range: the model's own limit instead (or its minimum,
 * for a limit below it: Claude Code's `max_tokens: 1` to a Responses upstream, which takes 16 at
 * least), named with what was sent instead; nothing when the body's limit is within it, as a later
 * request's may be. `otherwise`: the fix when the refusal states no bound (a limit field the model
 * does not take at all).
 */
export function capLimit(field: string, otherwise?: SettingFix): SettingFix {
  return (body, refusal) => {
    const limit = limitInRefusal(refusal.message);
    const minimum = limit === undefined ? minimumInRefusal(refusal.message) : undefined;
    if (limit === undefined && minimum === undefined) return otherwise ? otherwise(body, refusal) : false;
    const asked = body[field];
    if (typeof asked !== "number") return false;
    const instead = limit !== undefined ? Math.min(asked, limit) : Math.max(asked, minimum as number);
    if (instead === asked) return "";
    body[field] = instead;
    return `${field} ${asked} (${instead} sent instead)`;
  };
}

/**
 * The most entries a refusal says a list setting takes: OpenAI's "Invalid 'stop': array too long.
 * Expected an array with maximum length 4, but got an array with length 5 instead."
 */
export function maxLengthInRefusal(message: string): number | undefined {
  return countIn(message, /array too long\. Expected an array with maximum length (\d+)/i);
}

/**
 * A fix for a list longer than the model takes: its first entries, as many as the refusal says,
 * named as `<what> after the first N (left out of asked)`; nothing when the body's list is within it,
 * as a later request's may be. `otherwise`: the fix when the refusal states no bound.
 */
export function capList(field: string, what: string, otherwise?: SettingFix): SettingFix {
  return (body, refusal) => {
    const max = maxLengthInRefusal(refusal.message);
    if (max === undefined) return otherwise ? otherwise(body, refusal) : false;
    const list = body[field];
    if (!Array.isArray(list)) return false;
    if (list.length <= max) return "";
    body[field] = list.slice(0, max);
    return `${what} after the first ${max} (${list.length - max} of ${list.length})`;
  };
}

/**
 * The longest string a refusal says a setting takes: OpenAI's "Invalid 'user': string too long.
 * Expected a string with maximum length 64, but got a string with length 150 instead."
 */
export function maxStringLengthInRefusal(message: string): number | undefined {
  return countIn(message, /string too long\. Expected a string with maximum length (\d+)/i);
}

/** A SHA-256 in hex: 64 characters. */
const DIGEST_LENGTH = 64;

/**
 * A fix for an identifier longer than the model takes (api.openai.com's `user`, `safety_identifier`
 * and `prompt_cache_key` take 64 characters; Claude Code's `metadata.user_id`, sent as `user`, is a JSON
 * object of about 150): its SHA-256 in hex instead, which fits and still tells one end user (or
 * cache key) from another, the same each time; left out where even that is too long. Nothing when
 * the body's value is within it, as a later request's may be. `otherwise`: the fix when the refusal
 * states no bound (a field the model does not take at all).
 */
export function hashLongIdentifier(field: string, otherwise?: SettingFix): SettingFix {
  return (body, refusal) => {
    const max = maxStringLengthInRefusal(refusal.message);
    if (max === undefined) return otherwise ? otherwise(body, refusal) : false;
    const value = body[field];
    if (typeof value !== "string") return false;
    if (value.length <= max) return "";
    if (max < DIGEST_LENGTH) {
      delete body[field];
      return field;
    }
    body[field] = createHash("sha256").update(value).digest("hex");
    return `${field} (its SHA-256 sent instead)`;
  };
}
