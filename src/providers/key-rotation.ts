import {
  type EmbedResult,
  GatewayError,
  lazyStream,
  type ProviderChatRequest,
  type ProviderEmbedRequest,
  prepended,
  type StreamEvent,
} from "../core/index.js";
import type { KeyPool } from "../secrets/index.js";
import type { ApiKeySource, EmbeddingProvider, Provider } from "./provider.js";

/** How long a key the upstream refused (401/403) is left out before it is tried again. */
const REFUSED_MS = 10 * 60_000;
/** How long a rate-limited key rests when the upstream does not say (Retry-After). */
const RATE_LIMITED_MS = 30_000;

/**
 * A provider's key pool in use: each request gets the first key that is not resting; a key the
 * upstream refuses (401/403) or rate-limits (429) rests (a per-key breaker) and the same request is
 * sent again at once with the next key, so one bad key never fails a request another key can serve.
 * Only when every key is resting does the error go to the router (which moves on to the next target).
 * The key chosen travels with the request (`apiKey`), not in async context: Node 20's
 * AsyncLocalStorage turns on promise hooks for the whole process, a cost every request would pay.
 */
export class KeyRotation {
  readonly #restingUntil = new Map<string, number>();

  constructor(
    private readonly provider: string,
    private readonly pool: KeyPool,
    private readonly onRotate?: (reason: string) => void,
  ) {}

  /** What the provider asks for its key when a request brings none (model lists, probes): the first one. */
  readonly apiKey: ApiKeySource = () => this.pool.require(this.provider);

  /** The keys to try for one request, resting ones last (they may have recovered when nothing else is left). */
  async #candidates(): Promise<string[]> {
    const keys = await this.pool.all(this.provider);
    const now = Date.now();
    const ready = keys.filter((k) => (this.#restingUntil.get(k) ?? 0) <= now);
    return ready.length > 0 ? ready : keys.slice(0, 1);
  }

  #rest(key: string, error: GatewayError): void {
    // A spent quota (rate_limited, not retryable) will not come back in seconds: it rests like a refused key.
    const briefly = error.code === "rate_limited" && error.retryable;
    const ms = briefly ? (error.retryAfterMs ?? RATE_LIMITED_MS) : REFUSED_MS;
    this.#restingUntil.set(key, Date.now() + ms);
    // A refused key may have been replaced in the keychain or the store: read the keys again.
    if (!briefly) this.pool.forget();
    this.onRotate?.(error.code);
  }

  wrap(inner: Provider): Provider {
    const chat = (req: ProviderChatRequest, signal: AbortSignal) => this.#chat(inner, req, signal);
    // A provider without embeddings stays without them: `embed` is offered only when the inner one has it.
    const embed =
      inner.embed && ((req: ProviderEmbedRequest, signal: AbortSignal) => this.#embed(inner as EmbeddingProvider, req, signal));
    // The router reads a provider's members on every request: each method is bound once, not per read.
    const bound = new Map<PropertyKey, unknown>();
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === "chat") return chat;
        if (prop === "embed") return embed;
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        let method = bound.get(prop);
        if (method === undefined) {
          method = value.bind(target);
          bound.set(prop, method);
        }
        return method;
      },
    });
  }

  #chat(inner: Provider, request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
    // Once a key has its first event, the rest of the answer is forwarded as it is.
    return lazyStream(async () => {
      const keys = await this.#candidates();
      for (let i = 0; ; i++) {
        const key = keys[i];
        const iterator = inner.chat(key === undefined ? request : { ...request, apiKey: key }, signal)[Symbol.asyncIterator]();
        let first: IteratorResult<StreamEvent>;
        try {
          first = await iterator.next();
        } catch (err) {
          const error = GatewayError.from(err);
          if (key !== undefined && rotates(error) && i + 1 < keys.length && !signal.aborted) {
            this.#rest(key, error);
            continue;
          }
          if (key !== undefined && rotates(error)) this.#rest(key, error);
          throw error;
        }
        return prepended(first, iterator);
      }
    });
  }

  async #embed(inner: EmbeddingProvider, request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const keys = await this.#candidates();
    for (let i = 0; ; i++) {
      const key = keys[i];
      try {
        return await inner.embed(key === undefined ? request : { ...request, apiKey: key }, signal);
      } catch (err) {
        const error = GatewayError.from(err);
        if (key !== undefined && rotates(error)) this.#rest(key, error);
        if (key !== undefined && rotates(error) && i + 1 < keys.length && !signal.aborted) continue;
        throw error;
      }
    }
  }
}

/**
 * Failures that are about the key, not the request: another key may well succeed. Decided on the
 * error's code, which GatewayError.from and the providers' error mappings set from structured fields:
 * tandem's own internal failures and a client's bad request never mark a key.
 */
function rotates(error: GatewayError): boolean {
  return error.code === "authentication" || error.code === "permission_denied" || error.code === "rate_limited";
}
