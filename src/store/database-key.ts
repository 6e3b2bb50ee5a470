import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Keychain, KeychainError, osKeychain } from "../secrets/keychain.js";
import { StoreError } from "./store-error.js";

/** The keychain account (service "tandem") that holds the database key. */
export const DATABASE_KEY_ACCOUNT = "database-key";
/** The environment variable that supplies the key: 32 bytes as 64 hex digits or as base64. */
export const DATABASE_KEY_ENV = "TANDEM_DB_KEY";
/** The key file's name in the data dir, used only when there is no keychain. */
export const DATABASE_KEY_FILE = "db.key";
/** The database file's name in the data dir. */
export const DATABASE_FILE = "tandem.db";

export interface DatabaseKey {
  /** 32 random bytes: the raw SQLCipher key (no passphrase derivation). */
  key: Buffer;
  source: "env" | "keychain" | "file";
  /** Where it came from, for messages: `TANDEM_DB_KEY`, `OS keychain (...)`, or the key file's path. */
  where: string;
  /** True when this call made the key (first use). */
  created: boolean;
}

export interface DatabaseKeyOptions {
  dataDir: string;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: the OS keychain, service "tandem". */
  keychain?: Keychain;
  /** Where the one-line warning about a key file next to the data goes. Default: stderr. */
  warn?: (line: string) => void;
  /**
   * Make a key when there is none yet (first use). False for commands that only read: with no key and
   * no database, they have nothing to show, and must not leave a key behind. Default true.
   */
  create?: boolean;
}

/**
 * Finds the key of `<dataDir>/tandem.db`, making one on first use. The order, and why:
 *
 * 1. `TANDEM_DB_KEY`, when set: an explicit choice (a container's secret, a server's unit file) wins
 *    over anything found on the machine. An invalid value is an error, never silently skipped.
 * 2. The OS keychain, service "tandem", account "database-key", when it has an entry: the key stays
 *    out of the data dir, so a copy of the data dir alone (a backup, a synced folder) cannot be read.
 * 3. The key file `<dataDir>/db.key`, when it exists: made earlier on a machine without a keychain. It
 *    is used only when no other user can read it (mode 0600); a warning says the key sits next to
 *    the data. An existing file is preferred to making a new keychain key, because a new key could
 *    not open the database the file's key encrypted.
 * 4. Nothing found: if `tandem.db` already exists, that is an error (its key is lost or elsewhere;
 *    a new key would not open it). Otherwise a random key is made and kept in the keychain, or, when
 *    the keychain cannot be used, in a new key file created with mode 0600 (plus the warning).
 */
export async function resolveDatabaseKey(options: DatabaseKeyOptions): Promise<DatabaseKey> {
  const env = options.env ?? process.env;
  const keychain = options.keychain ?? osKeychain();
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const keyFile = join(options.dataDir, DATABASE_KEY_FILE);
  const dbFile = join(options.dataDir, DATABASE_FILE);

  const fromEnv = env[DATABASE_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    return { key: parseDatabaseKey(fromEnv, DATABASE_KEY_ENV), source: "env", where: DATABASE_KEY_ENV, created: false };
  }

  let keychainProblem: string | undefined;
  try {
    const stored = await keychain.get(DATABASE_KEY_ACCOUNT);
    if (stored !== undefined) {
      const where = `${keychain.description}, account ${DATABASE_KEY_ACCOUNT}`;
      return { key: parseDatabaseKey(stored, where), source: "keychain", where, created: false };
    }
  } catch (err) {
    if (!(err instanceof KeychainError)) throw err;
    keychainProblem = err.message;
  }

  const fromFile = await readKeyFile(keyFile);
  if (fromFile) {
    warnKeyFile(warn, keyFile, keychainProblem);
    return { key: fromFile, source: "file", where: keyFile, created: false };
  }

  if (await exists(dbFile)) {
    throw new StoreError(
      "no_key",
      `${dbFile} exists but its key was not found: not in ${DATABASE_KEY_ENV}, not in the OS keychain (service tandem, account ${DATABASE_KEY_ACCOUNT}${keychainProblem ? `: ${keychainProblem}` : ""}), and there is no ${keyFile}. Restore the key to one of those places; tandem will not make a new key for an existing database`,
      { file: dbFile },
    );
  }
  if (options.create === false) {
    throw new StoreError("not_found", `there is no database yet at ${dbFile}, and so no key`, { file: dbFile });
  }

  const key = randomBytes(32);
  if (keychainProblem === undefined) {
    try {
      await keychain.set(DATABASE_KEY_ACCOUNT, key.toString("hex"));
      // Read it back: if two processes raced to make the key, both must use the one that was kept.
      const kept = await keychain.get(DATABASE_KEY_ACCOUNT);
      const where = `${keychain.description}, account ${DATABASE_KEY_ACCOUNT}`;
      if (kept !== undefined) return { key: parseDatabaseKey(kept, where), source: "keychain", where, created: true };
      keychainProblem = "the keychain accepted the key but did not return it";
    } catch (err) {
      if (!(err instanceof KeychainError)) throw err;
      keychainProblem = err.message;
    }
  }
  const created = await createKeyFile(keyFile, key);
  warnKeyFile(warn, keyFile, keychainProblem);
  return { key: created.key, source: "file", where: keyFile, created: created.created };
}

/**
 * Reads a database key written as 64 hex digits or as base64 (standard or URL-safe) of exactly 32
 * bytes. Anything else is an error naming where the value came from, never echoing the value.
 */
export function parseDatabaseKey(text: string, where: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === 32) return bytes;
  }
  throw new StoreError(
    "invalid_key",
    `${where} is not a valid database key: expected 32 bytes written as 64 hex digits or as base64 (44 characters), got ${value.length} characters (for a new one: openssl rand -hex 32)`,
  );
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NOFOLLOW: a symlink planted in the data dir must not redirect tandem to another file.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new StoreError("io", `cannot read the database key file ${file}: ${(err as Error).message}`, { file, cause: err });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new StoreError("unsafe_key_file", `${file} is not a regular file; refusing to use it as the database key`, { file });
    if ((info.mode & 0o077) !== 0) {
      throw new StoreError(
        "unsafe_key_file",
        `refusing to use the database key file ${file}: other users can read it (mode ${(info.mode & 0o777).toString(8).padStart(4, "0")}); make it private with: chmod 600 ${file}`,
        { file },
      );
    }
    if (typeof process.getuid === "function" && info.uid !== process.getuid()) {
      throw new StoreError(
        "unsafe_key_file",
        `refusing to use the database key file ${file}: it belongs to another user (uid ${info.uid})`,
        { file },
      );
    }
    return parseDatabaseKey(await handle.readFile("utf8"), file);
  } finally {
    await handle.close();
  }
}

/** Creates the key file with mode 0600, exclusively; if another process made one first, uses that one. */
async function createKeyFile(file: string, key: Buffer): Promise<{ key: Buffer; created: boolean }> {
  await mkdir(join(file, ".."), { recursive: true, mode: 0o700 });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      const existing = await readKeyFile(file);
      if (existing) return { key: existing, created: false };
    }
    throw new StoreError("io", `cannot create the database key file ${file}: ${(err as Error).message}`, { file, cause: err });
  }
  try {
    await handle.writeFile(`${key.toString("hex")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { key, created: true };
}

function warnKeyFile(warn: (line: string) => void, file: string, keychainProblem: string | undefined): void {
  const why = keychainProblem ? "no OS keychain is available" : "it was made when no OS keychain was available";
  warn(
    `tandem: warning: the database key is in ${file}, next to the data it protects, because ${why}; set ${DATABASE_KEY_ENV} or use a keychain to keep them apart`,
  );
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}
