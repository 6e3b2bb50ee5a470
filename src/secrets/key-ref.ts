import { ProviderKeyMissingError, rememberSecret } from "../core/index.js";
import { type Keychain, KeychainError, osKeychain } from "./keychain.js";

/** A reference to a secret: `env:NAME`, `keychain:NAME` or `store:NAME`. Never the secret itself. */
export type KeyRef = { source: "env" | "keychain" | "store"; name: string };

const PATTERN = /^(env|keychain|store):([A-Za-z0-9_.\-/]+)$/;

export function parseKeyRef(text: string): KeyRef | undefined {
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  return { source: match[1] as KeyRef["source"], name: match[2] as string };
}

export function formatKeyRef(ref: KeyRef): string {
  return `${ref.source}:${ref.name}`;
}

/** Where `store:NAME` keys are read: the encrypted store's `secrets` table, in the process that opened it. */
export interface SecretSource {
  /** The secret stored under the name, or undefined. Throws (or rejects) when the store cannot be read. */
  getSecret(name: string): string | undefined | Promise<string | undefined>;
}

/** Where `keychain:` and `store:` references are looked up; tests pass their own. */
export interface KeySources {
  /** Default: the OS keychain, service "tandem" (see osKeychain). */
  keychain?: Keychain;
  /** The encrypted store (the server passes the one it opened). Default: none, so `store:` cannot be read. */
  store?: SecretSource;
}

/** A reference that exists in principle but cannot be read now: the message says why and what to do. */
export class KeyUnavailableError extends Error {
  override readonly name = "KeyUnavailableError";
  readonly code = "key_unavailable";
  readonly ref: KeyRef;

  constructor(ref: KeyRef, reason: string, options?: { cause?: unknown }) {
    super(`${formatKeyRef(ref)} cannot be read: ${reason}`, options);
    this.ref = ref;
  }
}

let defaultKeychain: Keychain | undefined;

/**
 * Resolves a key reference to the secret, or undefined when the reference names nothing (an unset
 * variable, no such keychain entry or store row). Nothing is cached: each call reads the environment,
 * the keychain or the store afresh, so a rotated key is used from the next request on. Concurrent
 * calls share no state.
 *
 * - `env:NAME` reads the environment at call time (so a rotated variable in a supervisor's environment
 *   is picked up on restart).
 * - `keychain:NAME` reads the OS keychain, service "tandem", account NAME.
 * - `store:NAME` reads the encrypted store's secrets table (`tandem keys set NAME --store`).
 *
 * Throws KeyUnavailableError when the keychain or the store cannot be read at all (no keychain on a
 * headless machine, no store open in this process), which is a different problem from a missing key.
 */
export async function resolveKeyRef(
  ref: KeyRef,
  env: NodeJS.ProcessEnv = process.env,
  sources: KeySources = {},
): Promise<string | undefined> {
  switch (ref.source) {
    case "env": {
      const value = env[ref.name];
      return value === undefined || value === "" ? undefined : value;
    }
    case "keychain": {
      defaultKeychain ??= osKeychain();
      const keychain = sources.keychain ?? defaultKeychain;
      try {
        return nonEmpty(await keychain.get(ref.name));
      } catch (err) {
        const reason = err instanceof KeychainError ? err.message : `${keychain.description}: ${(err as Error).message}`;
        throw new KeyUnavailableError(
          ref,
          `${reason}. Keep the key in the encrypted store instead: tandem keys set ${ref.name} --store, and refer to it as store:${ref.name}`,
          { cause: err },
        );
      }
    }
    case "store": {
      const store = sources.store;
      if (!store) {
        throw new KeyUnavailableError(ref, "the encrypted store is not open in this process");
      }
      try {
        return nonEmpty(await store.getSecret(ref.name));
      } catch (err) {
        throw new KeyUnavailableError(ref, (err as Error).message, { cause: err });
      }
    }
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Shows a key in logs and status without giving it away: `sk-p…Wx9z`. */
export function maskKey(key: string): string {
  if (key.length <= 8) return "…";
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/**
 * How long the keys of a pool, once read, serve its requests before they are read again. A keychain
 * read is a round trip to another process (the Secret Service over D-Bus, macOS's securityd) and a
 * store read one to the store's thread: too slow to repeat for every request. An upstream refusing a
 * key (KeyPool.forget) has them read again at once, so a key replaced after a refusal is used next.
 */
export const KEY_CACHE_MS = 30_000;

/** A provider's keys, tried in order: the first that resolves is used. */
export class KeyPool {
  readonly refs: readonly KeyRef[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #sources: KeySources;
  readonly #now: () => number;
  /** The last read (or the one under way, until it ends: concurrent requests share it). */
  #cached: { keys: Promise<string[]>; until: number } | undefined;

  constructor(
    refs: readonly KeyRef[],
    env: NodeJS.ProcessEnv = process.env,
    sources: KeySources = {},
    now: () => number = Date.now,
  ) {
    this.refs = refs;
    this.#env = env;
    this.#sources = sources;
    this.#now = now;
  }

  /** The key to use now, or undefined when the provider needs none or none resolves. */
  async current(): Promise<string | undefined> {
    return (await this.#first()).key;
  }

  /** Throws ProviderKeyMissingError when keys are configured but none of them resolves, saying why for each. */
  async require(provider: string): Promise<string | undefined> {
    const { key, tried } = await this.#first();
    if (key === undefined && this.refs.length > 0) {
      throw new ProviderKeyMissingError(provider, tried);
    }
    return key;
  }

  /**
   * Every key that resolves, in the configured order (duplicates once): the pool a request may
   * rotate through, read at most every KEY_CACHE_MS (see forget). Empty when the provider needs no
   * key; throws like require() when keys are configured but none resolves (and reads again next time).
   */
  async all(provider: string): Promise<string[]> {
    const cached = this.#cached;
    if (cached !== undefined && cached.until > this.#now()) return cached.keys;
    const read = { keys: this.#readAll(provider), until: Number.POSITIVE_INFINITY };
    this.#cached = read;
    try {
      await read.keys;
    } catch (err) {
      if (this.#cached === read) this.#cached = undefined;
      throw err;
    }
    read.until = this.#now() + KEY_CACHE_MS;
    return read.keys;
  }

  /** Drops the keys read, so the next request reads them again: an upstream refused one, which may have been replaced. */
  forget(): void {
    this.#cached = undefined;
  }

  async #readAll(provider: string): Promise<string[]> {
    const keys: string[] = [];
    const tried: string[] = [];
    for (const ref of this.refs) {
      try {
        const key = await resolveKeyRef(ref, this.#env, this.#sources);
        if (key === undefined) tried.push(`${formatKeyRef(ref)}: not set`);
        else if (!keys.includes(key)) {
          // From now on, no error message can show it (see core/redact-secrets.ts).
          rememberSecret(key);
          keys.push(key);
        }
      } catch (err) {
        if (!(err instanceof KeyUnavailableError)) throw err;
        tried.push(err.message);
      }
    }
    if (keys.length === 0 && this.refs.length > 0) {
      throw new ProviderKeyMissingError(provider, tried);
    }
    return keys;
  }

  /** Resolves afresh on every call (no cache), so a key rotated in the keychain or store is used at once. */
  async #first(): Promise<{ key: string | undefined; tried: string[] }> {
    const tried: string[] = [];
    for (const ref of this.refs) {
      try {
        const key = await resolveKeyRef(ref, this.#env, this.#sources);
        if (key !== undefined) {
          rememberSecret(key);
          return { key, tried };
        }
        tried.push(`${formatKeyRef(ref)}: not set`);
      } catch (err) {
        // One unreadable source must not hide the next reference, which may well resolve.
        if (!(err instanceof KeyUnavailableError)) throw err;
        tried.push(err.message);
      }
    }
    return { key: undefined, tried };
  }
}
