import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random id in the style of the real APIs: `chatcmpl-…`, `msg_…`, `call_…`, `toolu_…`. */
export function makeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i] as number) % ALPHABET.length];
  return out;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
