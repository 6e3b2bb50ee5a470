/**
 * The contract every fake upstream (OpenAI, Anthropic, Ollama wire formats) follows, so end-to-end
 * tests can drive any of them the same way. Each fake listens on 127.0.0.1 only and speaks its API's
 * real wire format, including error bodies, Retry-After and stream framing.
 */

export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined for GET. */
  body: unknown;
}

export interface FakeToolCall {
  /** Upstream's call id; the fake invents one in its API's style when omitted (Ollama may have none). */
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What the fake should answer to the next request. Streaming or not follows the request's own `stream` flag. */
export type FakeReply =
  | {
      kind: "text";
      text: string;
      /** How to split the text into stream chunks; default: about 4 characters each. */
      chunks?: string[];
      /** Default: stop. */
      finish?: "stop" | "length";
      /**
       * The model's reasoning before the text, in each wire's own form: OpenAI-compatible
       * `reasoning_content` (DeepSeek, vLLM), Anthropic a thinking block, Ollama `message.thinking`.
       */
      reasoning?: string;
      /** Anthropic only: the thinking block's signature (default: one the fake makes up). */
      signature?: string;
      usage?: { input: number; output: number };
    }
  /** `reasoning`: the model's reasoning before its calls (DeepSeek's `reasoning_content`; the OpenAI fake only). */
  | { kind: "tool_calls"; calls: FakeToolCall[]; text?: string; reasoning?: string; usage?: { input: number; output: number } }
  /** An HTTP error in the API's own error shape (body defaults to a realistic one for that status). */
  | { kind: "error"; status: number; message?: string; body?: unknown; headers?: Record<string, string> }
  /** A stream that sends these text chunks and then drops the connection without the end marker. */
  | { kind: "broken_stream"; chunks: string[] }
  /** A stream that sends these text chunks and then goes silent, connection open, until the client leaves (a hung model). */
  | { kind: "stall"; chunks: string[] };

export type FakeScript = (request: RecordedRequest) => FakeReply;

export interface FakeUpstream {
  /** The base URL to put in a provider's config (OpenAI kind: ends in /v1; Anthropic, Ollama: the origin). */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** The model ids its model list reports. */
  readonly models: string[];
  /** Replaces the script that answers chat requests. Default: text "Hello from <kind>" with usage. */
  script(fn: FakeScript): void;
  close(): Promise<void>;
}

/**
 * Echo mode: the ways a careless upstream (or a proxy in front of it) quotes a request's credentials
 * back in its errors: a JSON error body, an HTML error page, an error inside a 200 stream (SSE
 * `error` event, NDJSON `{"error"}` line, or the error object of a whole 200 answer), and a 429 with
 * Retry-After. Each fake has an `*EchoReply(shape, request)` that answers that way.
 */
export type EchoShape = "json" | "html" | "stream" | "rate_limit";

export const ECHO_SHAPES: readonly EchoShape[] = ["json", "html", "stream", "rate_limit"];

/** The credential a request carried (Authorization or x-api-key) and a sentence quoting it twice. */
export function echoedCredentials(request: RecordedRequest): { key: string; header: string; sentence: string } {
  const authorization = request.headers.authorization;
  const apiKey = request.headers["x-api-key"];
  const header =
    typeof authorization === "string"
      ? `Authorization: ${authorization}`
      : `x-api-key: ${typeof apiKey === "string" ? apiKey : ""}`;
  const key = typeof authorization === "string" ? authorization.replace(/^Bearer\s+/i, "") : String(apiKey ?? "");
  return { key, header, sentence: `Incorrect API key provided: ${key}. The request said '${header}'.` };
}

/** An HTML error page (a proxy's) that quotes the sentence. */
export function echoHtmlPage(sentence: string): string {
  return `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>${sentence}</p><pre>${sentence}</pre></body></html>`;
}

/** Whether a recorded chat request asked for a stream (Ollama streams unless told not to). */
export function asksForStream(request: RecordedRequest, byDefault: boolean): boolean {
  const stream = (request.body as { stream?: unknown } | undefined)?.stream;
  return typeof stream === "boolean" ? stream : byDefault;
}
