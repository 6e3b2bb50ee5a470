import {
  type EmbedResult,
  GatewayError,
  KeyRotatedError,
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
 * upstream refuses (401/403) or rate-limits (429) rests (a per-key breaker). When another key is
 * ready, the failure goes to the router as a KeyRotatedError: the router sends the request again at
 * once (the next call here picks the next ready key), as an attempt of its own that it counts and
 * logs but does not hold against the target. When no other key is ready, the upstream's error goes
 * to the router as it is (and counts for the target).
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

  /** The key for one request: the first that is not resting, else the first (it may have recovered). */
  async #pick(): Promise<string | undefined> {
    const keys = await this.pool.all(this.provider);
    const now = Date.now();
    return keys.find((k) => (this.#restingUntil.get(k) ?? 0) <= now) ?? keys[0];
  }

  /**
   * After `key` failed: rests it when the failure is about the key, and says so to the router as a
   * KeyRotatedError when another key is ready to take the request; else the error as it is.
   */
  async #afterFailure(key: string | undefined, error: GatewayError, signal: AbortSignal): Promise<GatewayError> {
    if (key === undefined || !rotates(error)) return error;
    this.#rest(key, error);
    if (signal.aborted) return error;
    let keys: string[];
    try {
      keys = await this.pool.all(this.provider);
    } catch {
      // The keys cannot be read again just now: the upstream's own error says more than that.
      return error;
    }
    const now = Date.now();
    const another = keys.some((k) => k !== key && (this.#restingUntil.get(k) ?? 0) <= now);
    return another ? new KeyRotatedError(error, keys.length) : error;
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
      const key = await this.#pick();
      const iterator = inner.chat(key === undefined ? request : { ...request, apiKey: key }, signal)[Symbol.asyncIterator]();
      let first: IteratorResult<StreamEvent>;
      try {
        first = await iterator.next();
      } catch (err) {
        throw await this.#afterFailure(key, GatewayError.from(err), signal);
      }
      return prepended(first, iterator);
    });
  }

  async #embed(inner: EmbeddingProvider, request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const key = await this.#pick();
    try {
      return await inner.embed(key === undefined ? request : { ...request, apiKey: key }, signal);
    } catch (err) {
      throw await this.#afterFailure(key, GatewayError.from(err), signal);
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
