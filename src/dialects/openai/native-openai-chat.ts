import { type NativeRequest, nativeHeaders } from "../../core/index.js";

/** The request headers an OpenAI-compatible target on the same wire would be given as the client sent them. */
const FORWARDED_HEADERS = ["openai-beta"] as const;

/** The top-level fields the canonical form carries across; any other is named when it cannot cross. */
const CARRIED = new Set([
  "model",
  "messages",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "seed",
  "user",
  "stream",
  "stream_options",
  "n",
]);

/**
 * The client's own chat completions request (see core/native.ts). No provider passes this wire
 * through yet, so today it only says what the rebuilt request leaves out (`reasoning_effort`,
 * `logprobs`, `metadata`, `service_tier`, `prediction`, unknown fields...), for `x-tandem-warnings`.
 */
export function nativeOpenAIChatRequest(body: unknown, headers: Record<string, string | string[] | undefined>): NativeRequest {
  const raw = body as Record<string, unknown>;
  return { wire: "openai-chat", body: raw, headers: nativeHeaders(headers, FORWARDED_HEADERS), lost: () => openAIChatLost(raw) };
}

/** What of a chat completions request the canonical form leaves out. */
export function openAIChatLost(body: Record<string, unknown>): string[] {
  const lost: string[] = [];
  for (const key of Object.keys(body)) {
    // Settings sent as null (many clients send every field) ask for nothing.
    if (!CARRIED.has(key) && body[key] !== null && body[key] !== undefined) lost.push(key);
  }
  return lost;
}
