import { createDecipheriv } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** SQLCipher 4's defaults, as src/store/open-database.ts sets them (legacy = 4). */
const PAGE = 4096;
/** Bytes at the end of each page: a 16-byte IV, then a 64-byte HMAC-SHA512. */
const RESERVE = 80;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/**
 * Every page of the encrypted database and its WAL, decrypted with the raw key (SQLCipher uses a
 * raw `x'...'` key as the AES-256-CBC key as it is). A test can then look for content inside the
 * pages themselves: searching the encrypted file for plaintext would find nothing either way.
 */
export function decryptedPages(dataDir: string, key: Buffer): Buffer[] {
  const pages: Buffer[] = [];
  const main = join(dataDir, "tandem.db");
  if (existsSync(main)) {
    const bytes = readFileSync(main);
    for (let at = 0; at + PAGE <= bytes.length; at += PAGE) pages.push(decryptPage(bytes.subarray(at, at + PAGE), at === 0, key));
  }
  const wal = join(dataDir, "tandem.db-wal");
  if (existsSync(wal)) {
    const bytes = readFileSync(wal);
    for (let at = WAL_HEADER; at + FRAME_HEADER + PAGE <= bytes.length; at += FRAME_HEADER + PAGE) {
      const pageNumber = bytes.readUInt32BE(at);
      pages.push(decryptPage(bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + PAGE), pageNumber === 1, key));
    }
  }
  return pages;
}

function decryptPage(page: Buffer, first: boolean, key: Buffer): Buffer {
  // Page 1 starts with the file's 16-byte salt, stored in the clear.
  const body = page.subarray(first ? 16 : 0, PAGE - RESERVE);
  const decipher = createDecipheriv("aes-256-cbc", key, page.subarray(PAGE - RESERVE, PAGE - RESERVE + 16));
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/** Whether any decrypted page holds `needle` (UTF-8). */
export function pagesHold(dataDir: string, key: Buffer, needle: string): boolean {
  const bytes = Buffer.from(needle, "utf8");
  return decryptedPages(dataDir, key).some((page) => page.includes(bytes));
}
