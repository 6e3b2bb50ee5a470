/**
 * Anthropic's tool_use `input` must be a JSON object, and its SDKs parse the streamed
 * `partial_json` at the end of the block (and throw on bad JSON). Arguments from other backends,
 * small local models above all, can be malformed or not an object: those become `{}` rather than
 * a crash in the client. The model's raw text is not passed on in another field, since no
 * Anthropic client would look for it there.
 */
export function toolInputJson(argumentsText: string): string {
  const text = argumentsText.trim();
  if (text === "") return "{}";
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return text;
  } catch {
    // Falls through to the empty object.
  }
  return "{}";
}
