import { GatewayError, type ImagePart } from "../../core/index.js";

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
  const mediaType = sniffImageType(Buffer.from(data.slice(0, 32), "base64"));
  if (!mediaType) {
    throw new GatewayError(
      "invalid_request",
      `Invalid value for '${param}': unsupported image format (expected PNG, JPEG, GIF or WebP)`,
      { param },
    );
  }
  return { type: "image", source: { kind: "base64", mediaType, data } };
}

/** The media type of a PNG, JPEG, GIF or WebP file from its first bytes, or undefined. */
export function sniffImageType(head: Uint8Array): string | undefined {
  const starts = (bytes: number[], offset = 0) => bytes.every((b, i) => head[offset + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (head[4] === 0x37 || head[4] === 0x39) && head[5] === 0x61) return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return undefined;
}
