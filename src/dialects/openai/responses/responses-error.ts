import { errorOptionsOf, GatewayError } from "../../../core/index.js";

/**
 * A conversation too long for every target is OpenAI's own Responses error, word for word, so that
 * clients which react to it (compacting their history, as the Codex CLI does) recognise it. An error
 * about the output format names it as this API does (textFormatParam).
 */
export function asResponsesError(err: unknown): unknown {
  if (!(err instanceof GatewayError)) return err;
  if (err.code === "context_length_exceeded") {
    return new GatewayError(
      "context_length_exceeded",
      "Your input exceeds the context window of this model. Please adjust your input and try again.",
      { param: "input", retryable: false, cause: err },
    );
  }
  // A chat upstream's (or the local engine's, or the router's) error names the conversation as
  // `messages`: here it is `input`, in the words too where they quote the field itself (an index
  // into `messages` is no index into `input`, so a deeper path's words are left as they are).
  if (err.param === "messages" || err.param?.startsWith("messages.") === true || err.param?.startsWith("messages[") === true) {
    const message = err.param === "messages" ? err.message.split("'messages'").join("'input'") : err.message;
    return new GatewayError(err.code, message, { ...errorOptionsOf(err), param: "input", cause: err });
  }
  const param = err.param === undefined ? undefined : textFormatParam(err.param);
  if (param === undefined || err.param === undefined) return err;
  return new GatewayError(err.code, err.message.split(err.param).join(param), { ...errorOptionsOf(err), param, cause: err });
}

/**
 * The Responses API's name for a field of the canonical output format, which the rest of tandem (the
 * local engine, an OpenAI chat upstream) names as chat completions does: `response_format` is
 * `text.format`, and `response_format.json_schema.schema` is `text.format.schema` (the Responses
 * format has no `json_schema` level). Undefined for any other field.
 */
function textFormatParam(param: string): string | undefined {
  const match = /^response_format(?:\.json_schema)?(\..+)?$/.exec(param);
  return match === null ? undefined : `text.format${match[1] ?? ""}`;
}
