import type { AnswerLimits } from "./http/answer-limits.js";

// The provider contract lives in core (core/provider.ts); these names stay importable from here.
export type {
  ChatProvider,
  EmbeddingProvider,
  LocalEngine,
  ModelDescriber,
  ModelInfo,
  ModelLoader,
  Provider,
  ProviderCapabilities,
  UpstreamModelFile,
} from "../core/index.js";

/** Where a provider gets its API key for each request (keys can rotate, so it is asked every time). */
export type ApiKeySource = () => Promise<string | undefined>;

export interface RemoteProviderOptions {
  id: string;
  /** Base URL of the upstream API, e.g. `https://api.openai.com/v1` (OpenAI kind), `https://api.anthropic.com` (Anthropic), `http://127.0.0.1:11434` (Ollama). */
  baseUrl: string;
  apiKey: ApiKeySource;
  /** Extra headers sent on every upstream request. */
  headers?: Record<string, string>;
  /** Milliseconds to establish a connection. Default 10000. */
  connectTimeoutMs?: number;
  /** How much of an answer is held at once (config `limits`). Default: 32 MiB whole, 8 MiB a line. */
  limits?: AnswerLimits;
}
