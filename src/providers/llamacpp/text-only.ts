import { GatewayError, type Message, UNSUPPORTED_BY_TARGET } from "../../core/index.js";

/**
 * The engine's refusal of a conversation with an image (it loads no multimodal projector), or
 * undefined when the conversation has none. A 400 about the request, never a 503: the request can
 * never succeed on this model, so SDKs must not retry it and it says nothing about the engine's
 * health (no breaker counts it); UNSUPPORTED_BY_TARGET, so that a route goes on to a target that
 * reads images (router/retry-policy.ts). The provider asks before a model is loaded for it; the
 * worker's conversion, which cannot render an image, refuses the same way.
 */
export function textOnlyRefusal(messages: readonly Message[], target: string): GatewayError | undefined {
  const withImage = messages.some((m) => m.role === "user" && m.content.some((p) => p.type === "image"));
  if (!withImage) return undefined;
  return new GatewayError("invalid_request", `${target} reads text only; this conversation has an image.`, {
    target,
    retryable: false,
    reason: UNSUPPORTED_BY_TARGET,
  });
}
