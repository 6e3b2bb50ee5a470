/**
 * The `x-tandem-warnings` entry ("<this> not sent to <target>") for a `tool_choice` of type
 * `allowed_tools` that crossed to another wire as its closest canonical form: only the allowed tools
 * offered, with its mode as the choice. Chat completions and the Responses API name it in these same
 * words, so that a client reads one message whichever OpenAI API it spoke.
 */
export const ALLOWED_TOOLS_APPROXIMATED = "tool_choice allowed_tools (only the allowed tools offered instead)";
