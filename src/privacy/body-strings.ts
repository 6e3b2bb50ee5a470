/**
 * Which strings of a client's own body (the same-wire path, core/native.ts) privacy reads, and as
 * what. A same-wire target is sent the body as it came, unknown and wire-only fields included, so
 * the rule is the other way round from a list of fields to read: every string value and every
 * object key is read, but for the few fields listed here, each with why. A field a wire adds
 * tomorrow is read without anyone listing it.
 */

/** How a string of the body is read: as text (every detector), or as an identifier (IDENTIFIER_FIELDS). */
export type BodyStringKind = "text" | "id";

/**
 * Fields whose strings are identifiers: a tool call's id on the call and on its result, an item's,
 * a file's, a response's, a conversation's, a container's, a skill's, an MCP approval request's. They are read by every detector but the
 * high-entropy one, since a provider issues them random (`call_Xq7pLm2Zr9Tk4Wn8Bv3Hs6Yd` reads as a
 * credential); a client's own id that holds an address or a card number is found as in any text. On
 * a redacting route such an id is replaced whole (Redaction.redactId), so the call and its result
 * still pair, in every wire's id alphabet.
 */
export const IDENTIFIER_FIELDS: ReadonlySet<string> = new Set([
  "id",
  "call_id",
  "tool_call_id",
  "tool_use_id",
  "item_id",
  "file_id",
  "previous_response_id",
  "conversation",
  "container",
  "skill_id",
  "approval_request_id",
]);

/**
 * Fields whose strings are bytes a provider made and checks, or bytes the client sends: a thinking
 * block's `signature`, a redacted thinking block's or a base64 source's `data`, a reasoning item's
 * `encrypted_content` and `encrypted_index`. They hold no text a model reads (a text document's
 * `data` is read in the canonical form, as the document's text), an upstream refuses them changed,
 * and random bytes read as credentials or account numbers to the detectors (about one in ten long
 * agent histories would be private for its encrypted reasoning alone).
 */
const BYTES_FIELDS: ReadonlySet<string> = new Set(["signature", "encrypted_content", "encrypted_index", "data"]);

/**
 * Top-level fields left unread: `model` (a name of tandem's, replaced by the target's own model id
 * before anything is sent), `tool_choice` and chat's deprecated `function_call` (an enum, or the name
 * of a tool, which is not read either: see TOOL_UNREAD) and Anthropic's `context_management` (edits
 * by kind, token counts and tool names).
 */
const TOP_LEVEL_UNREAD: ReadonlySet<string> = new Set(["model", "tool_choice", "function_call", "context_management"]);

/**
 * Left unread in a tool definition and an MCP server entry: its `name` (an identifier the model
 * calls back by: a placeholder in it would break the call, and a keyword a tool is named after would
 * make every request private), and the credentials the client gives its provider to use on its behalf
 * (a Responses `mcp` tool's `authorization` and `headers`, Anthropic's `authorization_token`), sent
 * as the API key is so that the provider can reach the server: the request's text is what is
 * private, not the key to a server it names.
 */
const TOOL_UNREAD: ReadonlySet<string> = new Set(["name", "authorization", "authorization_token", "headers"]);
/** The top-level fields whose entries TOOL_UNREAD applies to (chat's deprecated `functions` are tools too). */
const TOOL_FIELDS: ReadonlySet<string> = new Set(["tools", "functions", "mcp_servers"]);

/** How deep the walk goes (the body was depth-checked when parsed: 100 levels). */
const MAX_DEPTH = 128;

/**
 * Every non-empty string of a client's own JSON body, values and object keys alike (a schema's
 * property names, `metadata` and `logit_bias` keys, a tool call's input keys, an unknown field's
 * name), each as text or as an identifier, but for BYTES_FIELDS', TOP_LEVEL_UNREAD's and
 * TOOL_UNREAD's. In the body's order; a string met twice is visited twice. Depth-bounded.
 */
export function forEachBodyString(body: Record<string, unknown>, visit: (text: string, kind: BodyStringKind) => void): void {
  // A plain recursive walk (no generator, no entry arrays): it runs on every same-wire request classified.
  const walk = (value: unknown, depth: number, inTools: boolean): void => {
    if (typeof value === "string") {
      if (value !== "") visit(value, "text");
    } else if (typeof value === "object" && value !== null && depth < MAX_DEPTH) {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, depth + 1, inTools);
        return;
      }
      const object = value as Record<string, unknown>;
      for (const key in object) {
        const item = object[key];
        if (visitMember(key, item, depth, inTools, visit)) walk(item, depth + 1, depth === 0 ? TOOL_FIELDS.has(key) : inTools);
      }
    }
  };
  walk(body, 0, false);
}

/** How long forEachBodyStringInTurns runs before it leaves the event loop, in ms. */
const TURN_MS = 4;

/**
 * forEachBodyString in turns of the event loop: the same strings in the same order, leaving the loop
 * whenever a turn has lasted TURN_MS. A body of many small members (a schema of thousands of
 * properties, a long agent history) is read a few ms at a time, not in one step that holds every
 * other client up.
 */
export async function forEachBodyStringInTurns(
  body: Record<string, unknown>,
  visit: (text: string, kind: BodyStringKind) => void,
): Promise<void> {
  let deadline = performance.now() + TURN_MS;
  let steps = 0;
  const pause = async (): Promise<void> => {
    // The clock is read every 64 members: reading it costs more than a member does.
    if ((++steps & 63) !== 0 || performance.now() < deadline) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    deadline = performance.now() + TURN_MS;
  };
  const walk = async (value: unknown, depth: number, inTools: boolean): Promise<void> => {
    if (typeof value === "string") {
      if (value !== "") visit(value, "text");
    } else if (typeof value === "object" && value !== null && depth < MAX_DEPTH) {
      if (Array.isArray(value)) {
        for (const item of value) {
          await pause();
          if (typeof item === "object" && item !== null) await walk(item, depth + 1, inTools);
          else if (typeof item === "string" && item !== "") visit(item, "text");
        }
        return;
      }
      const object = value as Record<string, unknown>;
      for (const key in object) {
        await pause();
        const item = object[key];
        if (visitMember(key, item, depth, inTools, visit))
          await walk(item, depth + 1, depth === 0 ? TOOL_FIELDS.has(key) : inTools);
      }
    }
  };
  await walk(body, 0, false);
}

/**
 * Visits an object member's key, and its value when a string; true when the value is a container to
 * walk (or anything else that is not a string: the walk leaves it). The rules of forEachBodyString.
 */
function visitMember(
  key: string,
  item: unknown,
  depth: number,
  inTools: boolean,
  visit: (text: string, kind: BodyStringKind) => void,
): boolean {
  if (depth === 0 && TOP_LEVEL_UNREAD.has(key)) return false;
  // On the entry itself (`tools[0].name`), or a chat tool's `function.name`; never deeper, in a schema.
  if (inTools && depth <= 3 && TOOL_UNREAD.has(key) && (depth === 2 || (key === "name" && typeof item === "string")))
    return false;
  if (key !== "") visit(key, "text");
  if (typeof item === "string") {
    if (!BYTES_FIELDS.has(key) && item !== "") visit(item, IDENTIFIER_FIELDS.has(key) ? "id" : "text");
    return false;
  }
  return typeof item === "object" && item !== null;
}
