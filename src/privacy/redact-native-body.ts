import type { NativeRequest } from "../core/native.js";
import { IDENTIFIER_FIELDS } from "./body-strings.js";
import { DROPPED_SETTINGS, leaveOutHeldStops, type Redaction } from "./redaction.js";

/** A client's own body redacted for a same-wire cloud target, and what of it was left out or changed. */
export interface RedactedNativeBody {
  body: Record<string, unknown>;
  /**
   * For `x-tandem-warnings`, each as "<field> not sent to <target>": `user`, `metadata.user_id`,
   * `store: true`, `stop`, `stop_sequences`, `options.stop`, `logit_bias`.
   */
  dropped: string[];
}

/** Top-level ids and keys of an OpenAI body that a placeholder would make meaningless (the canonical path's, by wire name): left out when they hold a value. */
const OPENAI_IDS = DROPPED_SETTINGS.map(([, wire]) => wire);

/**
 * The client's own body (core/native.ts) for a cloud target on a redacting route: every value the
 * redaction knows replaced by its placeholder wherever it is (messages, tool definitions and their
 * schemas, property names and every other key, output schemas, metadata keys and values, unknown
 * fields); an id of the wire's (a tool call's, an item's: body-strings.ts, IDENTIFIER_FIELDS) that
 * holds one replaced whole by a stand-in of the request's, so a call and its result still pair; an id
 * or cache key the client gives its provider that holds one (OpenAI `user`, `safety_identifier`,
 * `prompt_cache_key`; Anthropic `metadata.user_id`) left out instead, since a placeholder there would
 * merge unrelated users or caches; a stop sequence that holds one (OpenAI `stop`, Anthropic
 * `stop_sequences`, Ollama `options.stop`) left out, since a placeholder would stop the model on text
 * it never writes where the value would be; an OpenAI `logit_bias` with such a key left out (its keys
 * are token ids: a placeholder is none); and an OpenAI chat completions `store: true` sent as
 * `store: false`, so the provider keeps no copy of a private request (tandem keeps its own, from the
 * client's body; the Responses wire is always sent `store: false` by its dialect). The client's body
 * is not modified.
 */
export function redactNativeBody(redaction: Redaction, native: NativeRequest): RedactedNativeBody {
  const body: Record<string, unknown> = { ...native.body };
  const dropped: string[] = [];
  switch (native.wire) {
    case "openai-chat":
    case "openai-responses":
      for (const field of OPENAI_IDS) {
        const value = body[field];
        if (typeof value !== "string" || !redaction.holdsValue(value)) continue;
        delete body[field];
        dropped.push(field);
      }
      if (native.wire === "openai-chat") {
        if (body.store === true) {
          body.store = false;
          dropped.push("store: true");
        }
        if (leaveOutHeldStops(body, "stop", redaction)) dropped.push("stop");
        const bias = body.logit_bias;
        if (typeof bias === "object" && bias !== null && Object.keys(bias).some((token) => redaction.holdsValue(token))) {
          delete body.logit_bias;
          dropped.push("logit_bias");
        }
      }
      break;
    case "anthropic-messages": {
      if (leaveOutHeldStops(body, "stop_sequences", redaction)) dropped.push("stop_sequences");
      const metadata = body.metadata;
      if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) break;
      const { user_id: id, ...rest } = metadata as Record<string, unknown>;
      if (typeof id !== "string" || !redaction.holdsValue(id)) break;
      if (Object.keys(rest).length > 0) body.metadata = rest;
      else delete body.metadata;
      dropped.push("metadata.user_id");
      break;
    }
    case "ollama-chat":
    case "ollama-generate": {
      const options = body.options;
      if (typeof options !== "object" || options === null || Array.isArray(options)) break;
      const copy = { ...(options as Record<string, unknown>) };
      if (!leaveOutHeldStops(copy, "stop", redaction)) break;
      if (Object.keys(copy).length > 0) body.options = copy;
      else delete body.options;
      dropped.push("options.stop");
      break;
    }
    default:
      break;
  }
  return { body: redaction.redactJsonValue(body, IDENTIFIER_FIELDS), dropped };
}
