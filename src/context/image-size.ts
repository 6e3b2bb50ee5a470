/** An image's size in pixels. */
export interface ImageSize {
  width: number;
  height: number;
}

/** Bytes enough for the header of a PNG, GIF or WebP (their sizes sit in the first 30 bytes). */
const HEADER_BYTES = 32;
/** Base64 characters that decode to HEADER_BYTES (4 characters per 3 bytes, rounded up to a whole group). */
const HEADER_CHARS = Math.ceil(HEADER_BYTES / 3) * 4;

/**
 * The width and height an inline image says it has in its own header (PNG, JPEG, GIF, WebP: the
 * formats the vendors take), from its base64 bytes; undefined for another format or bytes that do not
 * parse. Only the header is decoded, but for a JPEG, whose size sits in a frame header after its
 * metadata segments (EXIF can take kilobytes), the whole image is.
 */
export function imageSizeOfBase64(data: string): ImageSize | undefined {
  const head = decode(data.slice(0, HEADER_CHARS));
  if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47 && head.toString("latin1", 12, 16) === "IHDR") {
    return sized(head.readUInt32BE(16), head.readUInt32BE(20));
  }
  if (head.length >= 10 && head.toString("latin1", 0, 4) === "GIF8") return sized(head.readUInt16LE(6), head.readUInt16LE(8));
  if (head.length >= 30 && head.toString("latin1", 0, 4) === "RIFF" && head.toString("latin1", 8, 12) === "WEBP") {
    return webpSize(head);
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return jpegSize(decode(data));
  return undefined;
}

/** The bytes of base64 text, whitespace and a cut-off last group tolerated (Buffer's decoder ignores what it cannot read). */
function decode(base64: string): Buffer {
  return Buffer.from(base64, "base64");
}

function sized(width: number, height: number): ImageSize | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** A WebP's canvas: lossy (VP8), lossless (VP8L) or extended (VP8X) each keep it differently. */
function webpSize(head: Buffer): ImageSize | undefined {
  const chunk = head.toString("latin1", 12, 16);
  if (chunk === "VP8 ") return sized(head.readUInt16LE(26) & 0x3fff, head.readUInt16LE(28) & 0x3fff);
  if (chunk === "VP8L") {
    const bits = head.readUInt32LE(21);
    return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === "VP8X") return sized(head.readUIntLE(24, 3) + 1, head.readUIntLE(27, 3) + 1);
  return undefined;
}

/**
 * A JPEG's size from its first start-of-frame segment (SOF0–SOF15 but DHT, JPG and DAC, which share
 * the marker range), walking the segments before it by their lengths.
 */
function jpegSize(bytes: Buffer): ImageSize | undefined {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    // Fill bytes before a marker.
    if (marker === 0xff) {
      at++;
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return sized(bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5));
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return undefined;
}
