/**
 * The first bytes of images of a given size, in each format the vendors take: enough for a reader of
 * image headers (src/context/image-size.ts), not decodable pictures. For tests of counting images.
 */
export function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write("IHDR", 4, "latin1");
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 6, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

/** A JPEG: SOI, an APP1 segment of `metadataBytes` (EXIF's place), then a baseline frame header. */
export function jpegHeader(width: number, height: number, metadataBytes = 16): Buffer {
  const app1 = Buffer.alloc(4 + metadataBytes);
  app1.set([0xff, 0xe1]);
  app1.writeUInt16BE(2 + metadataBytes, 2);
  const sof = Buffer.from([0xff, 0xc0, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app1, sof]);
}

export function gifHeader(width: number, height: number): Buffer {
  const out = Buffer.alloc(13);
  out.write("GIF89a", 0, "latin1");
  out.writeUInt16LE(width, 6);
  out.writeUInt16LE(height, 8);
  return out;
}

/** A WebP of each of its three kinds: lossy (VP8), lossless (VP8L), extended (VP8X). */
export function webpHeader(width: number, height: number, kind: "VP8 " | "VP8L" | "VP8X"): Buffer {
  const out = Buffer.alloc(32);
  out.write("RIFF", 0, "latin1");
  out.writeUInt32LE(24, 4);
  out.write("WEBP", 8, "latin1");
  out.write(kind, 12, "latin1");
  if (kind === "VP8 ") {
    out.set([0x9d, 0x01, 0x2a], 23);
    out.writeUInt16LE(width, 26);
    out.writeUInt16LE(height, 28);
  } else if (kind === "VP8L") {
    out[20] = 0x2f;
    out.writeUInt32LE(((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14), 21);
  } else {
    out.writeUIntLE(width - 1, 24, 3);
    out.writeUIntLE(height - 1, 27, 3);
  }
  return out;
}
