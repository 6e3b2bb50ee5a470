import type { ApiKeySource } from "../provider.js";

/**
 * The headers of an upstream that takes `Authorization: Bearer <key>` (OpenAI-compatible APIs,
 * Ollama behind a proxy or its cloud): the configured extra headers, and the key when there is one.
 * The key is asked for on every request, since keys can rotate.
 */
export async function bearerHeaders(apiKey: ApiKeySource, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const key = await apiKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : { ...extra };
}
