import { GatewayError } from "../../core/index.js";
import {
  capLimit,
  capList,
  hashLongIdentifier,
  leaveOut,
  nearestLevel,
  type Refusal,
  type RefusalReader,
  RefusedSettings,
  rename,
  type SettingFix,
} from "../http/index.js";
import { OPENAI_EFFORTS } from "./openai-chat-api.js";

/**
 * How OpenAI says a model does not take a parameter or a value, with the field in `param`
 * (`unsupported_parameter`: "Unsupported parameter: 'reasoning_effort' is not supported with this
 * model."; `unsupported_value`: "Unsupported value: 'temperature' does not support 0.2 with this model.
 * Only the default (1) value is supported."), and Azure's and older models' "Unrecognized request
 * argument supplied: X", Groq's "property 'X' is unsupported" and Python servers' "X: Extra inputs are
 * not permitted" (FastAPI's validation detail), which name it only in the message.
 * An output limit above the model's ("max_tokens is too large: 32000. This model supports at most
 * 16384 completion tokens") too, and a list longer than the API takes (`array_above_max_length`:
 * "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with
 * length 5 instead.", api.openai.com's bound on stop sequences, which vLLM and llama-server do not have),
 * and a string longer than it takes (`string_above_max_length`: "Invalid 'user': string too long. Expected a
 * string with maximum length 64, but got a string with length 150 instead.", its bound on end-user ids).
 */
const REFUSED =
  /unsupported (?:parameter|value)|not supported|does not support|only the default|is too large|supports at most|below minimum value|array too long/i;
/**
 * A string longer than the API takes is a refused setting only in a top-level field (`user`); one in
 * the conversation (`messages[0].content`) or a tool is the request itself, nothing to do without.
 */
const STRING_TOO_LONG = /string too long/i;
const TOP_LEVEL_FIELD = /^[a-z_]+$/;
const UNRECOGNIZED =
  /unrecognized request argument supplied: ([\w.]+)|property '([\w.]+)' is unsupported|(?:^|; )([\w.]+): Extra inputs are not permitted/i;

/**
 * api.openai.com's refusal of function tools beside a reasoning effort on chat completions (gpt-5.5
 * and later), in either of its wordings: "Function tools with reasoning_effort are not supported for
 * gpt-5.6 in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to
 * 'none'." (gpt-5.6) and "... for gpt-5.5 in /v1/chat/completions. Please use /v1/responses instead."
 * (gpt-5.5). Leaving the effort out does not help (those models' default is medium): it goes as
 * `none`, unless the upstream speaks the Responses API too, where the effort goes as asked (see
 * refusesToolsWithEffort).
 */
const TOOLS_WITH_EFFORT_REFUSED = /function tools with reasoning_effort are not supported/i;

/** The setting an OpenAI-compatible upstream's 400 refused, if that is what it says. */
export const readOpenAIRefusal: RefusalReader = (error) => {
  if (error.code !== "invalid_request") return undefined;
  // The refusal of function tools beside an effort names the effort in its words, `param` or not.
  if (TOOLS_WITH_EFFORT_REFUSED.test(error.message)) return { field: "reasoning_effort", message: error.message };
  if (error.param !== undefined && REFUSED.test(error.message)) return { field: error.param, message: error.message };
  if (error.param !== undefined && STRING_TOO_LONG.test(error.message) && TOP_LEVEL_FIELD.test(error.param))
    return { field: error.param, message: error.message };
  const found = UNRECOGNIZED.exec(error.message);
  const named = found?.[1] ?? found?.[2] ?? found?.[3];
  return named === undefined ? undefined : { field: named, message: error.message };
};

/** Reasoning effort levels, least first, as refusals name them. */
const EFFORTS: readonly string[] = ["none", ...OPENAI_EFFORTS];

/**
 * The effort to send instead of `asked` when the refusal lists what the model takes ("Supported values
 * are: 'low', 'medium', and 'high'."): `asked` itself when listed, else the nearest level (the higher
 * on a tie), never "none" for a client that asked for reasoning. Undefined when nothing is listed.
 */
export function effortInstead(asked: unknown, refusal: Refusal): string | undefined {
  const listed = /supported values are:?([\s\S]*)$/i.exec(refusal.message)?.[1];
  if (typeof asked !== "string" || listed === undefined) return undefined;
  const supported = [...listed.matchAll(/'([\w-]+)'/g)].map((m) => m[1] as string);
  if (supported.includes(asked)) return asked;
  // Never none for a client that asked for reasoning.
  return nearestLevel(
    asked,
    supported.filter((level) => level !== "none"),
    EFFORTS,
  );
}

/** Whether an upstream's error is that refusal: the request is then sent as a Responses request, where it keeps its effort. */
export function refusesToolsWithEffort(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  const refusal = readOpenAIRefusal(error);
  return refusal?.field === "reasoning_effort" && TOOLS_WITH_EFFORT_REFUSED.test(refusal.message);
}

/**
 * A fix for an effort the model refused, `holder(body)[key]`: the nearest level the model takes, when
 * the refusal lists them (named with what was sent instead), `none` beside function tools where the
 * model refuses the two together (unless `keepsEffortBesideTools`: that body is no fix's, it goes
 * as a Responses request), else left out, with what holds it when `dropHolder` says how (the
 * Responses API's whole `reasoning`).
 */
function effortFix(
  name: string,
  key: string,
  holder: (body: Record<string, unknown>) => unknown,
  dropHolder?: (body: Record<string, unknown>) => void,
  keepsEffortBesideTools = false,
): SettingFix {
  return (body, refusal) => {
    const at = holder(body) as Record<string, unknown> | undefined;
    if (typeof at !== "object" || at === null) return false;
    if (TOOLS_WITH_EFFORT_REFUSED.test(refusal.message)) {
      // Only a body with function tools is refused; a later one without them goes as asked. A client
      // that asked for no reasoning loses nothing at none (the model's own default is what is refused).
      if (!Array.isArray(body.tools) || body.tools.length === 0) return "";
      if (!(key in at)) {
        at[key] = "none";
        return "";
      }
      if (at[key] === "none" || keepsEffortBesideTools) return false;
      const asked = at[key];
      at[key] = "none";
      return `${name} ${String(asked)} (none sent instead)`;
    }
    if (!(key in at)) return false;
    const asked = at[key];
    const instead = effortInstead(asked, refusal);
    if (instead === asked) return "";
    if (instead !== undefined) {
      at[key] = instead;
      return `${name} ${String(asked)} (${instead} sent instead)`;
    }
    if (dropHolder) dropHolder(body);
    else delete at[key];
    return name;
  };
}

/** Leaves out `key` of the object at `body[parent]`, and that object when nothing is left in it. */
function leaveOutNested(parent: string, key: string): SettingFix {
  return (body) => {
    const holder = body[parent] as Record<string, unknown> | undefined;
    if (typeof holder !== "object" || holder === null || !(key in holder)) return false;
    delete holder[key];
    if (Object.keys(holder).length === 0) delete body[parent];
    return `${parent}.${key}`;
  };
}

/** A fix per field that leaves it out. */
function leavingOut(fields: readonly string[]): Record<string, SettingFix> {
  return Object.fromEntries(fields.map((field) => [field, leaveOut(field)]));
}

/**
 * The identifiers both APIs bound in length (api.openai.com: 64 characters): one too long goes as its
 * SHA-256 (an Anthropic client's `metadata.user_id` as `user`: Claude Code's is about 150); one the
 * model does not take at all is left out.
 */
const IDENTIFIER_FIXES: Record<string, SettingFix> = Object.fromEntries(
  ["prompt_cache_key", "safety_identifier", "user"].map((field) => [field, hashLongIdentifier(field, leaveOut(field))]),
);

/**
 * Settings of a chat completions body tandem built that can be left out (or renamed) when a model
 * refuses them; `keepsEffortBesideTools`: see refusedChatSettings.
 */
const chatFixes = (keepsEffortBesideTools: boolean): Record<string, SettingFix> => ({
  reasoning_effort: effortFix("reasoning_effort", "reasoning_effort", (body) => body, undefined, keepsEffortBesideTools),
  // The model's own output limit when the client's is above it (Claude Code's 32000 to gpt-4o's 16384);
  // else the limit under the name the upstream reads (api.openai.com's reasoning models refuse `max_tokens`; Azure too).
  max_tokens: capLimit("max_tokens", rename("max_tokens", "max_completion_tokens")),
  max_completion_tokens: capLimit("max_completion_tokens", rename("max_completion_tokens", "max_tokens")),
  logprobs: leaveOut("logprobs", "top_logprobs"),
  // More stop sequences than the model takes (api.openai.com's 4): the first ones, as many as it takes;
  // a server that takes more is sent every one, as it never refuses them.
  stop: capList("stop", "stop sequences", leaveOut("stop")),
  ...leavingOut([
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "top_logprobs",
    "parallel_tool_calls",
    "service_tier",
    "verbosity",
  ]),
  ...IDENTIFIER_FIXES,
});

/** The same for a Responses body tandem built (a Responses-only upstream's). */
const RESPONSES_FIXES: Record<string, SettingFix> = {
  "reasoning.effort": effortFix(
    "reasoning.effort",
    "effort",
    (body) => body.reasoning,
    (body) => {
      delete body.reasoning;
    },
  ),
  reasoning: leaveOut("reasoning"),
  max_output_tokens: capLimit("max_output_tokens"),
  "reasoning.summary": leaveOutNested("reasoning", "summary"),
  "text.verbosity": leaveOutNested("text", "verbosity"),
  // tandem's own ask for the reasoning it sends back ("Encrypted content is not supported with this model"): nothing the client asked for.
  include: (body) => {
    const include = body.include;
    if (!Array.isArray(include) || !include.includes("reasoning.encrypted_content")) return false;
    const rest = include.filter((entry) => entry !== "reasoning.encrypted_content");
    if (rest.length > 0) body.include = rest;
    else delete body.include;
    return "";
  },
  ...leavingOut(["temperature", "top_p", "top_logprobs", "parallel_tool_calls", "service_tier"]),
  ...IDENTIFIER_FIXES,
};

/**
 * What an OpenAI-compatible upstream's models refused of chat completions bodies tandem built.
 * `keepsEffortBesideTools`: the upstream speaks the Responses API too, so a body with function tools
 * and a reasoning effort the model refuses together is not sent again at effort none: its refusal
 * goes back to the provider, which sends the request as a Responses request (see refusesToolsWithEffort).
 */
export function refusedChatSettings(keepsEffortBesideTools = false): RefusedSettings {
  return new RefusedSettings(chatFixes(keepsEffortBesideTools), readOpenAIRefusal);
}

/** What a Responses upstream's models refused of Responses bodies tandem built. */
export function refusedResponsesSettings(): RefusedSettings {
  return new RefusedSettings(RESPONSES_FIXES, readOpenAIRefusal);
}
