import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Keychain } from "../secrets/keychain.js";
import { DATABASE_FILE, resolveDatabaseKey } from "./database-key.js";
import { openStore, type Store, type StoreOptions } from "./store.js";
import { StoreError } from "./store-error.js";

export interface OpenDataStoreOptions extends Omit<StoreOptions, "key"> {
  /** Default: process.env (for TANDEM_DB_KEY). */
  env?: NodeJS.ProcessEnv;
  /** Default: the OS keychain. */
  keychain?: Keychain;
  /** Where the key-file warning goes. Default: stderr. */
  warn?: (line: string) => void;
  /** Create the database (and its key) when there is none. Default true; false for read-only commands. */
  create?: boolean;
}

/** Finds the database key (see resolveDatabaseKey for the order) and opens `<dataDir>/tandem.db` with it. */
export async function openDataStore(options: OpenDataStoreOptions): Promise<Store> {
  const file = join(options.dataDir, DATABASE_FILE);
  if (options.create === false && !existsSync(file)) {
    throw new StoreError("not_found", `there is no database yet at ${file}`, { file });
  }
  const key = await resolveDatabaseKey({
    dataDir: options.dataDir,
    env: options.env,
    keychain: options.keychain,
    warn: options.warn,
    create: options.create,
  });
  return openStore({ ...options, key });
}
