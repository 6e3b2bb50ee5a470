import { GatewayError } from "./errors.js";

/**
 * A request refused before any target was asked because its privacy keeps it on this machine and
 * none of its targets is (router/privacy-guard.ts): 403. Its own class so that tandem's own requests
 * (a memory recall's query embedding) can tell it from an upstream's 403 and go on without it,
 * saying why.
 */
export class LocalOnlyRefusal extends GatewayError {
  constructor(message: string) {
    super("permission_denied", message, { retryable: false });
  }
}
