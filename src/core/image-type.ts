/**
 * The image formats every target that reads images takes (PNG, JPEG, GIF, WebP), told by their first
 * bytes: a client's label is not always right (OpenAI takes a mislabelled image, Anthropic refuses one
 * whose bytes are of another type than declared, and one of any other type), so the bytes decide.
 */
export function sniffImageType(head: Uint8Array): string | undefined {
  const starts = (bytes: number[], offset = 0) => bytes.every((b, i) => head[offset + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38]) && (head[4] === 0x37 || head[4] === 0x39) && head[5] === 0x61) return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return undefined;
}

/**
 * Whether `data` (whitespace already removed) is standard base64 that decodes: the alphabet, padding
 * at the end only, and no lone last character. One character class, not a group repeated (a 20 MB
 * image would overflow the regex's stack). Missing padding is tolerated, as Node's decoder does.
 */
export function isBase64Text(data: string): boolean {
  return data.length % 4 !== 1 && /^[A-Za-z0-9+/]*={0,2}$/.test(data) && (!data.includes("=") || data.length % 4 === 0);
}

/** The first bytes of base64 `data`, enough for sniffImageType. */
export function base64Head(data: string): Buffer {
  return Buffer.from(data.slice(0, 32), "base64");
}
