import { base64Head, GatewayError, type ImagePart, isBase64Text, sniffImageType } from "../../core/index.js";

const DATA_URL = /^data:[^;,]*;base64,/i;

/**
 * Turns one of Ollama's base64 `images` into a canonical image part. Ollama sends no media type,
 * but every target that takes images needs one, so it is read from the file's magic bytes.
 * A `data:` URL prefix is tolerated (Ollama itself would reject it; some clients send one).
 */
export function decodeOllamaImage(raw: string, param: string): ImagePart {
  const data = raw.replace(DATA_URL, "").replace(/\s+/g, "");
  // core's one check of base64 text (padding only where it completes the last group, as Ollama's own
  // decoder asks), so what passes here is what the other dialects pass on as base64.
  if (data.length === 0 || !isBase64Text(data)) {
    throw new GatewayError("invalid_request", `Invalid value for '${param}': expected a base64-encoded image`, { param });
  }
  const mediaType = sniffImageType(base64Head(data));
  if (!mediaType) {
    throw new GatewayError(
      "invalid_request",
      `Invalid value for '${param}': unsupported image format (expected PNG, JPEG, GIF or WebP)`,
      { param },
    );
  }
  return { type: "image", source: { kind: "base64", mediaType, data } };
}
