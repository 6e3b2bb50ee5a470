import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command, type CommanderError } from "commander";
import { ConfigError } from "../config/config-error.js";
import { maskKey } from "../secrets/key-ref.js";
import { type Keychain, KeychainError, osKeychain } from "../secrets/keychain.js";
import { DATABASE_FILE, DATABASE_KEY_ACCOUNT } from "../store/database-key.js";
import { StoreError } from "../store/store-error.js";
import { type CommandIo, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, processIo, warnTo } from "./command-io.js";
import { addDataDirOptions, type DataDirOptions, resolveDataDir, STORE_DATA_DIR_HELP } from "./data-dir-options.js";

import { InterruptedError, promptHidden } from "./prompt-hidden.js";
import { formatTable } from "./text-table.js";

/** The encrypted store's code (SQLCipher), loaded when a command opens it: `tandem --help` needs none of it. */
const openStore: typeof import("../store/index.js").openDataStore = async (options) =>
  (await import("../store/index.js")).openDataStore(options);

/** The store of `dir`, which exists, for reading or deleting keys (never made anew). */
function openExistingStore(io: KeysCommandIo, dir: string) {
  return openStore({ dataDir: dir, env: io.env, keychain: io.keychain, warn: warnTo(io), create: false });
}

/** What the keys commands read and write: the process's own unless a test passes its own. */
export interface KeysCommandIo extends CommandIo {
  /** The key is read from here: a hidden prompt when it is a terminal, else everything piped in. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** Default: the OS keychain, service "tandem". */
  keychain?: Keychain;
}

/** The same names a key reference allows (`keychain:NAME`, `store:NAME`). */
const NAME = /^[A-Za-z0-9_.\-/]+$/;
/** More than any API key; stops `tandem keys set x < some-big-file` from storing a file. */
const MAX_KEY_BYTES = 16 * 1024;

/** `tandem keys set|list|rm`: provider API keys in the OS keychain or the encrypted store. */
export function keysCommand(io: KeysCommandIo = processIo()): Command {
  const group = new Command("keys")
    .description("manage provider API keys: in the OS keychain (keychain:NAME) or the encrypted store (store:NAME)")
    .exitOverride((err: CommanderError) => io.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  addDataDirOptions(
    group
      .command("set")
      .description("store a key, read from stdin or typed at a hidden prompt (never from the command line)")
      .argument("<name>", "the key's name; refer to it as keychain:<name>, or store:<name> with --store")
      .option("--store", "keep it in the encrypted store (<dataDir>/tandem.db) instead of the OS keychain"),
    STORE_DATA_DIR_HELP,
  ).action(async (name: string, opts: DataDirOptions & { store?: boolean }) => {
    io.setExitCode(await run(io, "keys set", () => setKey(io, name, opts)));
  });

  addDataDirOptions(
    group
      .command("list")
      .alias("ls")
      .description("list stored keys: name, where they live, the reference to use, a masked value")
      .option("--json", "print JSON"),
    STORE_DATA_DIR_HELP,
  ).action(async (opts: DataDirOptions & { json?: boolean }) => {
    io.setExitCode(await run(io, "keys list", () => listKeys(io, opts)));
  });

  addDataDirOptions(
    group
      .command("rm")
      .alias("remove")
      .description("remove a key from the OS keychain and the encrypted store")
      .argument("<name>", "the key's name"),
    STORE_DATA_DIR_HELP,
  ).action(async (name: string, opts: DataDirOptions) => {
    io.setExitCode(await run(io, "keys rm", () => removeKey(io, name, opts)));
  });
  return group;
}

async function setKey(io: KeysCommandIo, name: string, opts: DataDirOptions & { store?: boolean }): Promise<number> {
  checkName(name);
  const key = await readKey(io, name);
  if (opts.store) {
    const store = await openStore({
      dataDir: await resolveDataDir(io, opts),
      env: io.env,
      keychain: io.keychain,
      warn: warnTo(io),
    });
    try {
      store.setSecret(name, key);
      io.stdout.write(`stored ${name} (${maskKey(key)}) in the encrypted store ${store.file}; refer to it as store:${name}\n`);
    } finally {
      store.close();
    }
    return 0;
  }
  const keychain = io.keychain ?? osKeychain();
  try {
    await keychain.set(name, key);
  } catch (err) {
    if (!(err instanceof KeychainError)) throw err;
    io.stderr.write(
      `tandem keys set: ${err.message}\n  to keep the key in the encrypted store instead: tandem keys set ${name} --store\n`,
    );
    return EXIT_FAILED;
  }
  io.stdout.write(`stored ${name} (${maskKey(key)}) in the ${keychain.description}; refer to it as keychain:${name}\n`);
  return 0;
}

interface ListedKey {
  name: string;
  where: "keychain" | "store";
  ref: string;
  masked: string;
  updatedAt?: string;
}

async function listKeys(io: KeysCommandIo, opts: DataDirOptions & { json?: boolean }): Promise<number> {
  const keys: ListedKey[] = [];
  const notes: string[] = [];
  const keychain = io.keychain ?? osKeychain();
  try {
    for (const account of await keychain.accounts()) {
      if (account === DATABASE_KEY_ACCOUNT) continue;
      const value = await keychain.get(account);
      if (value !== undefined)
        keys.push({ name: account, where: "keychain", ref: `keychain:${account}`, masked: maskKey(value) });
    }
  } catch (err) {
    if (!(err instanceof KeychainError)) throw err;
    notes.push(`OS keychain not listed: ${err.message}`);
  }
  const dir = await resolveDataDir(io, opts);
  if (existsSync(join(dir, DATABASE_FILE))) {
    const store = await openExistingStore(io, dir);
    try {
      for (const info of store.listSecrets()) {
        keys.push({
          name: info.name,
          where: "store",
          ref: `store:${info.name}`,
          masked: maskKey(store.getSecret(info.name) ?? ""),
          updatedAt: info.updatedAt.toISOString(),
        });
      }
    } finally {
      store.close();
    }
  } else {
    notes.push(`encrypted store: none yet in ${dir}`);
  }
  for (const note of notes) io.stderr.write(`tandem keys list: ${note}\n`);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return 0;
  }
  if (keys.length === 0) {
    io.stdout.write("no keys stored; add one with: tandem keys set <name> (or --store)\n");
    return 0;
  }
  const rows = [
    ["NAME", "WHERE", "REFERENCE", "VALUE", "UPDATED"],
    ...keys.map((k) => [k.name, k.where, k.ref, k.masked, k.updatedAt ?? "-"]),
  ];
  io.stdout.write(formatTable(rows));
  return 0;
}

async function removeKey(io: KeysCommandIo, name: string, opts: DataDirOptions): Promise<number> {
  checkName(name);
  const removed: string[] = [];
  const problems: string[] = [];
  const keychain = io.keychain ?? osKeychain();
  try {
    if (await keychain.delete(name)) removed.push(`the ${keychain.description}`);
  } catch (err) {
    if (!(err instanceof KeychainError)) throw err;
    problems.push(err.message);
  }
  const dir = await resolveDataDir(io, opts);
  if (existsSync(join(dir, DATABASE_FILE))) {
    const store = await openExistingStore(io, dir);
    try {
      if (store.deleteSecret(name)) removed.push(`the encrypted store ${store.file}`);
    } finally {
      store.close();
    }
  }
  if (removed.length === 0) {
    io.stderr.write(
      `tandem keys rm: no key named ${name} in the OS keychain or the encrypted store${problems.length ? ` (${problems.join("; ")})` : ""}\n`,
    );
    return EXIT_FAILED;
  }
  io.stdout.write(`removed ${name} from ${removed.join(" and ")}\n`);
  return 0;
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new UsageError(`'${name}' is not a valid key name: use letters, digits, and _ . - /`);
  if (name === DATABASE_KEY_ACCOUNT) throw new UsageError(`'${name}' is reserved for the database key`);
}

/** The key from a hidden prompt on a terminal, else from everything piped to stdin (one line). */
async function readKey(io: KeysCommandIo, name: string): Promise<string> {
  const text =
    io.stdin.isTTY && io.stdin.setRawMode ? await promptHidden(io, `Key for ${name} (input hidden): `) : await readAll(io.stdin);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 0)
    throw new UsageError("no key given: pipe it to stdin (e.g. tandem keys set NAME < file) or type it at the prompt");
  if (lines.length > 1) throw new UsageError(`expected one key on stdin, got ${lines.length} lines`);
  return lines[0] as string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_KEY_BYTES) throw new UsageError(`stdin holds more than ${MAX_KEY_BYTES} bytes: that is not an API key`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

class UsageError extends Error {}

/** Runs a command body, turning what it throws into a one-line message and an exit code. */
async function run(io: KeysCommandIo, what: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ");
    if (err instanceof InterruptedError) {
      io.stderr.write(`tandem ${what}: interrupted; nothing stored\n`);
      return EXIT_INTERRUPTED;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr.write(`tandem ${what}: ${err instanceof ConfigError ? "config error: " : ""}${message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof StoreError || err instanceof KeychainError) {
      io.stderr.write(`tandem ${what}: ${message}\n`);
      return EXIT_FAILED;
    }
    throw err;
  }
}
