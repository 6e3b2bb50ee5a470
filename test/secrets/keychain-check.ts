/**
 * Runs inside a throwaway, unlocked keychain (shared/tools/with-keyring) and checks tandem's real
 * keychain paths against it: keychain: references, the database key, and `tandem keys` without
 * --store. Prints `ok <step>` per step; exits non-zero with the failed assertion otherwise. The keys
 * are made up for the test.
 * Usage: with-keyring node --import tsx keychain-check.ts <empty dataDir>
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { keysCommand } from "../../src/cli/keys.js";
import { KeyPool, osKeychain, parseKeyRef, resolveKeyRef } from "../../src/secrets/index.js";
import { openDataStore, resolveDatabaseKey } from "../../src/store/index.js";

const [dataDir = ""] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: keychain-check.ts <dataDir>");
const step = (name: string) => process.stdout.write(`ok ${name}\n`);
const keychain = osKeychain();
const anthropic = parseKeyRef("keychain:anthropic");
assert.ok(anthropic);

assert.deepEqual(await keychain.accounts(), []);
step("a fresh keychain has no tandem entries");

await keychain.set("anthropic", "sk-ant-test-1111");
assert.equal(await keychain.get("anthropic"), "sk-ant-test-1111");
assert.equal(await resolveKeyRef(anthropic, {}), "sk-ant-test-1111");
step("keychain:NAME resolves through the OS keychain");

const pool = new KeyPool([anthropic], {});
assert.equal(await pool.current(), "sk-ant-test-1111");
await keychain.set("anthropic", "sk-ant-test-2222");
assert.equal(await pool.current(), "sk-ant-test-2222");
step("a key rotated in the keychain is used at once");

const warnings: string[] = [];
const made = await resolveDatabaseKey({ dataDir, env: {}, warn: (l) => warnings.push(l) });
assert.equal(made.source, "keychain");
assert.equal(made.created, true);
assert.equal(existsSync(join(dataDir, "db.key")), false);
assert.deepEqual(warnings, []);
const again = await resolveDatabaseKey({ dataDir, env: {} });
assert.deepEqual(again.key, made.key);
assert.equal(again.created, false);
const store = await openDataStore({ dataDir, env: {}, pruneIntervalMs: 0 });
store.setSecret("kept", "sk-kept-in-store-4444");
store.close();
const reopened = await openDataStore({ dataDir, env: {}, pruneIntervalMs: 0 });
assert.equal(reopened.getSecret("kept"), "sk-kept-in-store-4444");
reopened.close();
assert.ok((await keychain.accounts()).includes("database-key"));
step("the database key is made in the keychain on first use, and found there after");

async function keys(args: string[], input = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  let code = 0;
  await keysCommand({
    stdin: Readable.from([input]),
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: {},
    setExitCode: (c) => {
      code = c;
    },
    exit: (c) => {
      throw new Error(`exit ${c}: ${err}`);
    },
  }).parseAsync([...args, "--data-dir", dataDir], { from: "user" });
  return { code, out, err };
}

const set = await keys(["set", "openai"], "sk-openai-test-3333\n");
assert.equal(set.code, 0, set.err);
assert.match(
  set.out,
  /^stored openai \(sk-o…3333\) in the OS keychain \(Secret Service\), service tandem; refer to it as keychain:openai\n$/,
);
assert.equal(await keychain.get("openai"), "sk-openai-test-3333");
const listed = await keys(["list", "--json"]);
assert.equal(listed.code, 0, listed.err);
assert.deepEqual(
  (JSON.parse(listed.out) as { updatedAt?: string }[]).map(({ updatedAt, ...rest }) => rest),
  [
    { name: "anthropic", where: "keychain", ref: "keychain:anthropic", masked: "sk-a…2222" },
    { name: "openai", where: "keychain", ref: "keychain:openai", masked: "sk-o…3333" },
    { name: "kept", where: "store", ref: "store:kept", masked: "sk-k…4444" },
  ],
);
assert.ok(!`${set.out}${set.err}${listed.out}${listed.err}`.includes("sk-openai-test-3333"));
const removed = await keys(["rm", "openai"]);
assert.equal(removed.code, 0, removed.err);
assert.equal(await keychain.get("openai"), undefined);
step("tandem keys set/list/rm use the keychain by default, and never print a key");

assert.equal(await keychain.delete("anthropic"), true);
assert.equal(await resolveKeyRef(anthropic, {}), undefined);
step("a removed keychain entry resolves to nothing");
process.stdout.write("all keychain checks passed\n");
