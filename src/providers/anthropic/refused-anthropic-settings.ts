import { effortForBudget } from "../../core/index.js";
import { capLimit, leaveOut, nearestLevel, type RefusalReader, RefusedSettings, type SettingFix } from "../http/index.js";
import { ANTHROPIC_EFFORTS } from "./anthropic-api.js";
import { schemaInstruction } from "./convert-to-anthropic-request.js";

/**
 * Anthropic names no field in its errors: a refused setting is read from the message. Claude models
 * since Opus 4.1 take temperature or top_p, not both ("`temperature` and `top_p` cannot both be
 * specified for this model. Please use only one."): top_p (which Anthropic recommends for advanced
 * use only) is left out. A sampling setting a model does not take at all is left out as named. A
 * `max_tokens` above the model's ("max_tokens: 100000 > 64000, which is the maximum allowed number of
 * output tokens for claude-sonnet-4-5") is sent as the model's limit.
 */
const BOTH = /temperature\W{0,3} and \W{0,3}top_p\W{0,3} cannot both be specified/i;
/** "'claude-3-5-haiku-20241022' does not support thinking." */
const NO_THINKING = /does not support thinking/i;
/** Newer models: "\"thinking.type.enabled\" is not supported for this model. Use \"thinking.type.adaptive\" and \"output_config.effort\" ..." */
const ADAPTIVE_ONLY = /thinking\.type\.enabled\W{0,3} is not supported/i;
const ABOVE_LIMIT = /max_tokens: \d+ > \d+, which is the maximum/i;
/**
 * Structured output on a model without it, or an Anthropic-compatible server that predates the field:
 * "'claude-3-5-haiku-20241022' does not support structured outputs", "output_config.format: Extra
 * inputs are not permitted", the beta's `output_format` named.
 */
const NO_FORMAT = /output_config\.format|\boutput_format\b|structured outputs?\b|output_config\W{0,3}:?\s*Extra inputs/i;
const NOT_TAKEN = /\b(temperature|top_p|top_k)\b[^.]{0,60}\b(?:not supported|no longer supported|deprecated)\b/i;
/**
 * An effort level the model does not take: "output_config.effort 'xhigh' is not supported when
 * thinking is disabled on this model. Use effort 'high' or below, or enable thinking." (Anthropic), and
 * "output_config.effort \"high\" is not supported by model claude-opus-4.7; supported values:
 * [medium]" (GitHub Copilot's Anthropic API, which copilot-api and the like serve at an Anthropic base URL).
 */
const EFFORT_NOT_TAKEN = /output_config\.effort\W{0,3}\s*\W?\w+\W?\s+is not supported/i;
/** Anthropic's effort levels, least first, as refusals name them. */
const EFFORTS: readonly string[] = ANTHROPIC_EFFORTS;

/** The setting an Anthropic upstream's 400 refused, if that is what it says. */
export const readAnthropicRefusal: RefusalReader = (error) => {
  if (error.code !== "invalid_request") return undefined;
  if (BOTH.test(error.message)) return { field: "top_p", message: error.message };
  if (ABOVE_LIMIT.test(error.message)) return { field: "max_tokens", message: error.message };
  if (ADAPTIVE_ONLY.test(error.message)) return { field: "thinking.type", message: error.message };
  if (NO_THINKING.test(error.message)) return { field: "thinking", message: error.message };
  if (NO_FORMAT.test(error.message)) return { field: "output_config.format", message: error.message };
  if (EFFORT_NOT_TAKEN.test(error.message)) return { field: "output_config.effort", message: error.message };
  const named = NOT_TAKEN.exec(error.message)?.[1];
  return named === undefined ? undefined : { field: named, message: error.message };
};

/**
 * The model's output limit, and a thinking budget kept under it (Anthropic wants max_tokens above the
 * budget). The answer keeps the allowance it had beside the budget (tandem sends max_tokens as the
 * budget plus the client's own limit) where the model's limit leaves room for it, the budget taking
 * what is left (at least Anthropic's least, 1024): an effort's budget near the limit would otherwise
 * leave the answer next to nothing.
 */
const capMaxTokens: SettingFix = (body, refusal) => {
  const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined;
  const budget = thinking?.type === "enabled" ? thinking.budget_tokens : undefined;
  const asked = body.max_tokens as number;
  const named = capLimit("max_tokens")(body, refusal);
  const limit = body.max_tokens as number;
  if (named !== false && thinking !== undefined && budget !== undefined) {
    const answer = asked > budget ? asked - budget : 0;
    thinking.budget_tokens = Math.max(1024, Math.min(budget, limit - answer, limit - 1));
  }
  return named;
};

/**
 * A budget where the model takes only adaptive thinking: adaptive, with the budget's effort level as
 * `output_config.effort` (minimal as low, which is Anthropic's least).
 */
const adaptiveThinking: SettingFix = (body) => {
  const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined;
  if (thinking?.type !== "enabled") return false;
  const budget = thinking.budget_tokens ?? 0;
  const level = effortForBudget(budget);
  const effort = level === "minimal" ? "low" : level;
  body.thinking = { type: "adaptive" };
  body.output_config = { ...(body.output_config as Record<string, unknown> | undefined), effort };
  return `thinking.budget_tokens ${budget} (adaptive thinking at effort ${effort} sent instead)`;
};

/**
 * Structured output a model does not take: the schema asked for in the system prompt instead, as
 * for a schema Anthropic's structured outputs cannot take (convert-to-anthropic-request.ts).
 */
const formatAsInstruction: SettingFix = (body) => {
  const config = body.output_config as { format?: { schema?: Record<string, unknown> } } | undefined;
  const schema = config?.format?.schema;
  if (config === undefined || schema === undefined) return false;
  delete config.format;
  if (Object.keys(config).length === 0) delete body.output_config;
  const instruction = schemaInstruction(schema);
  const system = body.system;
  if (Array.isArray(system)) system.push({ type: "text", text: instruction });
  else body.system = typeof system === "string" && system !== "" ? `${system}\n\n${instruction}` : instruction;
  return "output_config.format (the model takes no structured output: asked for in the system prompt instead)";
};

/**
 * The effort level to send instead of `asked`: the nearest the refusal lists ("supported values:
 * [medium]"; the higher on a tie), else the highest it allows ("Use effort 'high' or below"), else the
 * next level down. Undefined when there is none below.
 */
export function anthropicEffortInstead(asked: string, message: string): string | undefined {
  const listed = /supported values:?\s*\[([^\]]*)\]/i.exec(message)?.[1];
  if (listed !== undefined) {
    const supported = listed.split(/[\s,]+/).map((level) => level.replace(/['"]/g, ""));
    return nearestLevel(asked, supported, EFFORTS);
  }
  const ceiling = /use effort\W{0,3}(\w+)\W{0,3} or below/i.exec(message)?.[1];
  if (ceiling !== undefined && EFFORTS.includes(ceiling)) return ceiling;
  const rank = EFFORTS.indexOf(asked);
  return rank > 0 ? EFFORTS[rank - 1] : undefined;
}

/** An effort level the model does not take: the one anthropicEffortInstead picks, named. */
const effortTaken: SettingFix = (body, refusal) => {
  const config = body.output_config as { effort?: unknown } | undefined;
  const asked = config?.effort;
  if (config === undefined || typeof asked !== "string") return false;
  const instead = anthropicEffortInstead(asked, refusal.message);
  if (instead === undefined || instead === asked) return false;
  config.effort = instead;
  return `output_config.effort ${asked} (${instead} sent instead)`;
};

/** What an Anthropic upstream's models refused of Messages bodies tandem built. */
export function refusedAnthropicSettings(): RefusedSettings {
  return new RefusedSettings(
    {
      temperature: leaveOut("temperature"),
      top_p: leaveOut("top_p"),
      top_k: leaveOut("top_k"),
      max_tokens: capMaxTokens,
      thinking: leaveOut("thinking"),
      "thinking.type": adaptiveThinking,
      "output_config.format": formatAsInstruction,
      "output_config.effort": effortTaken,
    },
    readAnthropicRefusal,
  );
}
