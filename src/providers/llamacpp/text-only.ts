import { GatewayError, hasOwnImage, type Message, UNSUPPORTED_BY_TARGET } from "../../core/index.js";

/**
 * The engine's refusal of a request with an image of its own (it loads no multimodal projector), or
 * undefined when it has none: an earlier turn's image that tandem keeps was left out by the router
 * before (core/history-images.ts), named in the warnings. A 400 about the request, never a 503: the
 * request can never succeed on this model, so SDKs must not retry it and it says nothing about the
 * engine's health (no breaker counts it); UNSUPPORTED_BY_TARGET, so that a route goes on to a target
 * that reads images (router/retry-policy.ts). The provider asks before a model is loaded for it; the
 * worker's conversion, which cannot render an image, refuses the same way. An image in a tool
 * result is refused as one in a user message is: the conversion would drop it unsaid.
 */
export function textOnlyRefusal(messages: readonly Message[], target: string): GatewayError | undefined {
  if (!hasOwnImage(messages)) return undefined;
  return new GatewayError("invalid_request", `${target} reads text only; this request has an image.`, {
    target,
    retryable: false,
    reason: UNSUPPORTED_BY_TARGET,
  });
}
