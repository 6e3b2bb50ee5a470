import { rememberSecret } from "../../core/index.js";
import type { ApiKeySource } from "../provider.js";

/**
 * The headers of an upstream that takes `Authorization: Bearer <key>` (OpenAI-compatible APIs,
 * Ollama behind a proxy or its cloud): the configured extra headers, and the key when there is one:
 * `chosen` (the key rotation's pick for this request), else the key source's, asked for on every
 * request since keys can rotate.
 */
export async function bearerHeaders(
  apiKey: ApiKeySource,
  extra: Record<string, string> = {},
  chosen?: string,
): Promise<Record<string, string>> {
  const key = chosen ?? (await apiKey());
  // Whatever the key's source, an upstream that echoes it in an error cannot pass it on.
  rememberSecret(key);
  return key ? { ...extra, authorization: `Bearer ${key}` } : { ...extra };
}
