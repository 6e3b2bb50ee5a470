import { makeId } from "./ids.js";

/*
 * How tool call ids are written on Anthropic's wire, for both of its ends: the Anthropic dialect
 * writes a canonical id for its client with toolUseId and reads the client's back with toolCallId;
 * the Anthropic provider writes a conversation that came from an Anthropic client with toolUseId
 * again (ChatRequest.anthropicToolIds), so its upstream is sent the ids the client wrote.
 */

const TOOL_USE = "toolu_";

/** Anthropic's tool_use id alphabet (its API refuses any other character in an id sent back). */
const ID_ALPHABET = /^[A-Za-z0-9_-]+$/;

/**
 * A tool call's id as Anthropic writes one (`toolu_…`): another upstream's id (`call_…`) behind the
 * prefix, so that toolCallId() gives it back whole when the client answers the call. A character
 * outside Anthropic's alphabet (Kimi's `functions.get_weather:0`) is written `-` and its code in hex
 * (`-` itself too), so the id can be sent back to Anthropic and still be read back whole. An empty
 * id is a new one.
 */
export function toolUseId(upstreamId: string): string {
  if (upstreamId === "") return makeId(TOOL_USE);
  if (upstreamId.startsWith(TOOL_USE) && ID_ALPHABET.test(upstreamId)) return upstreamId;
  return `${TOOL_USE}${upstreamId.replace(/[^A-Za-z0-9_]/gu, escapeCharacter)}`;
}

/**
 * The id a client's tool_use / tool_result names, as the canonical request carries it: without the
 * `toolu_` prefix and its characters unescaped, so an upstream is asked about its own call ids (both
 * ends of a call are read alike, so an Anthropic-made id still pairs its call with its result).
 * Read only when toolUseId writes the result back as the very id the client sent; any other id
 * (`toolu_a-zz`, which no toolUseId wrote) is kept whole, so an Anthropic upstream is sent it as written.
 */
export function toolCallId(clientId: string): string {
  if (!clientId.startsWith(TOOL_USE) || clientId.length === TOOL_USE.length) return clientId;
  const read = clientId
    .slice(TOOL_USE.length)
    .replace(/--([0-9a-f]{6})|-([0-9a-f]{2})/g, (_, wide?: string, narrow?: string) =>
      String.fromCodePoint(Number.parseInt(wide ?? narrow ?? "0", 16)),
    );
  return read !== "" && toolUseId(read) === clientId ? read : clientId;
}

/** `-` and two hex digits for a character up to U+00FF, `--` and six for any other. */
function escapeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return code <= 0xff ? `-${code.toString(16).padStart(2, "0")}` : `--${code.toString(16).padStart(6, "0")}`;
}
