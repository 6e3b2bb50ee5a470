import { base64Head, GatewayError, type ImagePart, sniffImageType } from "../../core/index.js";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:[^;,]*;base64,/i;

/**
 * Turns one of Ollama's base64 `images` into a canonical image part. Ollama sends no media type,
 * but every target that takes images needs one, so it is read from the file's magic bytes.
 * A `data:` URL prefix is tolerated (Ollama itself would reject it; some clients send one).
 */
export function decodeOllamaImage(raw: string, param: string): ImagePart {
  const data = raw.replace(DATA_URL, "").replace(/\s+/g, "");
  if (data.length === 0 || data.length % 4 === 1 || !BASE64.test(data)) {
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
