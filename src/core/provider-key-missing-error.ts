import { GatewayError } from "./errors.js";

/**
 * A provider's key references resolve to no key (an unset `env:` variable, no such keychain entry or
 * store row, a keychain that cannot be read): tandem's own configuration is missing something, the
 * upstream was never asked, and the client's credentials have nothing to do with it. So not a 401
 * (`invalid_api_key`, `authentication_error`: clients take it as their own key refused and ask the
 * user to log in again) but a 503 naming the provider and what to set; never counted against the
 * target (its breaker, its error rate): a key added while tandem runs is read at the next request.
 * Not retried on the same target; the route's next target may answer.
 */
export class ProviderKeyMissingError extends GatewayError {
  constructor(provider: string, tried: readonly string[]) {
    super(
      "unavailable",
      `tandem has no API key for provider '${provider}' (tried ${tried.join("; ")}): set the key its apiKeys ` +
        "name (for store:NAME, `tandem keys set NAME --store`); it is read again at the next request",
      { retryable: false },
    );
  }
}

/** A plain boolean, not a type guard: a ProviderKeyMissingError has the shape of any GatewayError. */
export function isProviderKeyMissing(err: unknown): boolean {
  return err instanceof ProviderKeyMissingError;
}
