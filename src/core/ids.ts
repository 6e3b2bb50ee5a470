import { randomFillSync } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** Random bytes are drawn in batches: one syscall per few hundred ids instead of one per id. */
const pool = Buffer.alloc(8192);
let offset = pool.length;

/** A random id in the style of the real APIs: `chatcmpl-…`, `msg_…`, `call_…`, `toolu_…`. */
export function makeId(prefix: string, length = 24): string {
  if (offset + length > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALPHABET[(pool[offset + i] as number) % ALPHABET.length];
  offset += length;
  return out;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
