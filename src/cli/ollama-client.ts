import { authHeaders, clientKey, describeFetchError, serverUrl } from "./client.js";

/** An answer from the server's Ollama API that was not a success: the status and Ollama's `error` text. */
export class OllamaApiError extends Error {
  constructor(
    /**
     * The HTTP status of the error; 0 when it had none: the server was not reached, or the error
     * came as an `{"error"}` line of a stream that had begun with 200 (Ollama's way after the first line).
     */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The running server's Ollama API (`/api/...`), for `tandem run`, `ps`, `stop` and `show`: the
 * server is found as `tandem chat` finds it (--url, TANDEM_URL) with the key from TANDEM_API_KEY (or --key, with a warning).
 */
export class OllamaApi {
  readonly url: string;
  readonly #headers: Record<string, string>;

  /** `command` names the command in the warning `--key` earns (see clientKey). */
  constructor(options: { url?: string; key?: string }, command: string) {
    this.url = serverUrl(options.url);
    this.#headers = { "content-type": "application/json", ...authHeaders(clientKey(options.key, command)) };
  }

  get headers(): Record<string, string> {
    return this.#headers;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.#send("GET", path, undefined)).json() as Promise<T>;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.#send("POST", path, body)).json() as Promise<T>;
  }

  /** A streamed answer: one parsed JSON value per NDJSON line; an `{"error"}` line throws. */
  async *stream<T>(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const res = await this.#send("POST", path, body, signal);
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) {
          const value = JSON.parse(line) as T & { error?: string };
          if (value.error) throw new OllamaApiError(0, value.error);
          yield value as Awaited<T>;
        }
        newline = buffered.indexOf("\n");
      }
    }
  }

  async #send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: this.#headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new OllamaApiError(0, describeFetchError(this.url, err));
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text || res.statusText;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // Not JSON: the text is the message.
      }
      throw new OllamaApiError(res.status, message);
    }
    return res;
  }
}

/** The message a command prints for a failure. */
export function failureText(err: unknown): string {
  return err instanceof OllamaApiError ? (err.status ? `${err.message} (${err.status})` : err.message) : (err as Error).message;
}
