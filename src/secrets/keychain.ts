import { platform } from "node:os";

/**
 * The OS keychain as tandem uses it: one service, accounts by name, string secrets. The real one is
 * `osKeychain()`; tests pass their own.
 */
export interface Keychain {
  /** The secret stored for the account, or undefined when there is none. Throws KeychainError when the keychain cannot be used. */
  get(account: string): Promise<string | undefined>;
  /** Stores (or replaces) the secret for the account. */
  set(account: string, secret: string): Promise<void>;
  /** Removes the account's secret; false when there was none. */
  delete(account: string): Promise<boolean>;
  /** The accounts stored under the service, sorted. */
  accounts(): Promise<string[]>;
  /** Where the secrets live, for messages: "OS keychain (Secret Service), service tandem". */
  readonly description: string;
}

/** The OS keychain could not be reached or refused the operation. The message says why and what to do instead. */
export class KeychainError extends Error {
  override readonly name = "KeychainError";
  readonly code = "keychain_unavailable";
}

/** The service name under which tandem keeps its keychain entries. */
export const KEYCHAIN_SERVICE = "tandem";

type KeyringModule = typeof import("@napi-rs/keyring");

let keyring: Promise<KeyringModule> | undefined;

/** Loads the native binding on first use, so a platform without one fails here with a clear error, not at startup. */
function loadKeyring(): Promise<KeyringModule> {
  keyring ??= import("@napi-rs/keyring");
  return keyring;
}

/**
 * The OS keychain: Keychain on macOS, Credential Manager on Windows, the Secret Service (GNOME Keyring,
 * KWallet) over D-Bus on Linux.
 *
 * On Linux the entry is pinned to the Secret Service. @napi-rs/keyring would otherwise fall back to the
 * kernel keyring, which forgets everything at reboot: a database key kept there would make the
 * database unreadable after the next restart, which is worse than a clear "no keychain here".
 *
 * Nothing is cached: every get() asks the keychain, so a key changed there is used at once.
 */
export function osKeychain(service: string = KEYCHAIN_SERVICE): Keychain {
  const options = platform() === "linux" ? { linux: { store: "secret-service" as const } } : undefined;
  const description = `OS keychain (${platform() === "linux" ? "Secret Service" : platform() === "darwin" ? "macOS Keychain" : "Credential Manager"}), service ${service}`;

  async function entry(account: string) {
    const { AsyncEntry } = await loadKeyring().catch((err: unknown) => {
      throw unavailable(`the keychain binding for ${platform()}-${process.arch} cannot be loaded`, err);
    });
    try {
      return new AsyncEntry(service, account, options);
    } catch (err) {
      throw unavailable("cannot open a keychain entry", err);
    }
  }

  async function get(account: string): Promise<string | undefined> {
    const e = await entry(account);
    try {
      const value = await e.getPassword();
      return value === null ? undefined : value;
    } catch (err) {
      throw unavailable(`cannot read ${service}/${account}`, err);
    }
  }

  return {
    description,
    get,
    async set(account, secret) {
      const e = await entry(account);
      try {
        await e.setPassword(secret);
      } catch (err) {
        throw unavailable(`cannot store ${service}/${account}`, err);
      }
    },
    async delete(account) {
      const e = await entry(account);
      try {
        return await e.deleteCredential();
      } catch (err) {
        throw unavailable(`cannot remove ${service}/${account}`, err);
      }
    },
    async accounts() {
      const { findCredentialsAsync } = await loadKeyring().catch((err: unknown) => {
        throw unavailable(`the keychain binding for ${platform()}-${process.arch} cannot be loaded`, err);
      });
      // findCredentials has no store option; without a Secret Service session on Linux it would look in
      // the kernel keyring instead, so probe the pinned store first to report "unavailable" consistently.
      await get("tandem-keychain-probe");
      try {
        const found = await findCredentialsAsync(service);
        return [...new Set(found.map((c) => c.account))].sort();
      } catch (err) {
        throw unavailable(`cannot list the entries of service ${service}`, err);
      }
    },
  };
}

function unavailable(what: string, err: unknown): KeychainError {
  const reason = describeKeychainFailure(err);
  return new KeychainError(`OS keychain: ${what}: ${reason}`, { cause: err });
}

/** A short reason, with the usual Linux cause spelled out (no D-Bus session, so no Secret Service). */
function describeKeychainFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/D-?Bus|org\.freedesktop\.secrets|ServiceUnknown/i.test(message)) {
    return `no Secret Service is reachable on this session's D-Bus, as on a headless machine (${message})`;
  }
  return message;
}
