import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { rememberSecret } from "../core/index.js";

/** Checks client keys in constant time (keys are hashed first, so their lengths do not leak either). */
export class ClientAuth {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
    // Client keys are secrets too: no error message may show one.
    for (const key of keys) rememberSecret(key);
  }

  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** True when auth is off or the request carries a known key in `Authorization: Bearer` or `x-api-key`. */
  allows(headers: IncomingHttpHeaders): boolean {
    if (this.#digests.length === 0) return true;
    const presented = presentedKey(headers);
    if (presented === undefined) return false;
    const d = digest(presented);
    let ok = false;
    for (const known of this.#digests) ok = timingSafeEqual(known, d) || ok;
    return ok;
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth?.toLowerCase().startsWith("bearer ")) return auth.slice(7).trim();
  const apiKey = headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey : undefined;
}

/** 127.0.0.0/8, ::1 and localhost are loopback; anything else reaches other machines. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::ffff:127.0.0.1";
}
