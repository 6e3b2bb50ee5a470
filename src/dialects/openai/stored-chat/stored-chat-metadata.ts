import { GatewayError } from "../../../core/index.js";
import { parseMetadata, StateApiError } from "../state/index.js";

/**
 * The `metadata` of a `store: true` request, checked as OpenAI checks it (16 keys, keys up to 64
 * characters, values up to 512); a bad one is a 400 naming the field before anything is sent.
 */
export function storedChatMetadata(body: Record<string, unknown>): Record<string, string> {
  try {
    return parseMetadata(body.metadata);
  } catch (err) {
    if (!(err instanceof StateApiError)) throw err;
    throw new GatewayError("invalid_request", err.message, {
      ...(err.param !== null && { param: err.param }),
      ...(err.code !== null && { reason: err.code }),
    });
  }
}
