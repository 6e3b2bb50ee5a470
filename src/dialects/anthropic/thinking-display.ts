/**
 * How an Anthropic answer shows the model's thinking, as the client asked (thinkingDisplay):
 * - `shown`: thinking blocks with their text (`thinking_delta`s), then their signature;
 * - `omitted` (`display: "omitted"`): as Anthropic answers then, the blocks with empty text, only
 *   those with a signature (an Anthropic upstream's, or another provider's sealed reasoning, see
 *   sealed-signature.ts), so the client can send them back; `redacted_thinking` as it came;
 * - `off`: no thinking blocks (the client did not turn thinking on).
 */
export type ThinkingDisplay = "shown" | "omitted" | "off";
