import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { keysCommand } from "../../src/cli/keys.js";
import { parseKeyRef, resolveKeyRef } from "../../src/secrets/index.js";
import { openDataStore } from "../../src/store/index.js";
import { filesContaining, tempDataDir } from "../store/store-support.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";
import { FakeKeychain } from "./fake-keychain.js";

/** A machine without a keychain: no D-Bus session to find a Secret Service on. */
function headlessEnv(home: string, dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    TANDEM_DATA_DIR: dataDir,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, "no-such-bus")}`,
  };
}

function tandem(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TANDEM_CLI, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.stdin.end(input ?? "");
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("tandem keys, with the encrypted store", () => {
  it("sets, lists, rotates and removes a key read from stdin, never printing it", async () => {
    const home = tempDataDir("tandem-keys-home-");
    const dataDir = join(home, "data");
    const env = headlessEnv(home, dataDir);
    const secret = "sk-proj-TESTKEY-0123456789abcdefXYZ9";
    const rotated = "sk-proj-ROTATED-9876543210fedcbaQRS7";
    const printed: string[] = [];
    const run = async (args: string[], input?: string) => {
      const result = await tandem(args, env, input);
      printed.push(result.out, result.err);
      return result;
    };

    const set = await run(["keys", "set", "openai", "--store"], `${secret}\n`);
    assert.equal(set.code, 0, set.err);
    assert.equal(
      set.out,
      `stored openai (sk-p…XYZ9) in the encrypted store ${join(dataDir, "tandem.db")}; refer to it as store:openai\n`,
    );
    // No keychain here: the database key went to a private key file, with the one-line warning.
    assert.match(
      set.err,
      /^tandem: warning: the database key is in .*db\.key, next to the data it protects, because no OS keychain is available/,
    );
    assert.equal(statSync(join(dataDir, "db.key")).mode & 0o777, 0o600);
    assert.deepEqual(filesContaining(dataDir, secret), []);

    const list = await run(["keys", "list"]);
    assert.equal(list.code, 0, list.err);
    assert.match(
      list.out,
      /^NAME {4}WHERE {2}REFERENCE {5}VALUE {6}UPDATED\nopenai {2}store {2}store:openai {2}sk-p…XYZ9 {2}\d{4}-\d\d-\d\dT/,
    );
    assert.match(list.err, /OS keychain not listed: OS keychain: .*no Secret Service is reachable/);

    // What the server does with `store:openai`: the same store, read through the reference.
    const ref = parseKeyRef("store:openai");
    assert.ok(ref);
    const keychain = new FakeKeychain({ unavailable: "none here" });
    const store = await openDataStore({ dataDir, env: {}, keychain, warn: () => {}, pruneIntervalMs: 0 });
    assert.equal(await resolveKeyRef(ref, {}, { store }), secret);

    // Rotation and removal run the same command in-process (each spawn of the CLI costs seconds).
    const again = await keysInProcess(["set", "openai", "--store"], dataDir, keychain, rotated);
    printed.push(again.out, again.err);
    assert.equal(again.code, 0, again.err);
    assert.equal(await resolveKeyRef(ref, {}, { store }), rotated, "a rotated key is read without reopening");

    const removed = await keysInProcess(["rm", "openai"], dataDir, keychain);
    printed.push(removed.out, removed.err);
    assert.equal(removed.code, 0, removed.err);
    assert.equal(removed.out, `removed openai from the encrypted store ${join(dataDir, "tandem.db")}\n`);
    assert.equal(await resolveKeyRef(ref, {}, { store }), undefined);
    store.close();
    const gone = await keysInProcess(["rm", "openai"], dataDir, keychain);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /^tandem keys rm: no key named openai in the OS keychain or the encrypted store/m);

    for (const text of printed) {
      assert.ok(!text.includes(secret) && !text.includes(rotated), "a key was printed");
    }
  });

  it("refuses a key on the command line, an empty stdin, several lines, and a bad name, storing nothing", async () => {
    const dataDir = join(tempDataDir("tandem-keys-"), "data");
    const keychain = new FakeKeychain({ unavailable: "no Secret Service is running on this session's D-Bus" });
    const [argv, empty, lines, name, noKeychain] = await Promise.all([
      keysInProcess(["set", "openai", "sk-on-the-command-line", "--store"], dataDir, keychain),
      keysInProcess(["set", "openai", "--store"], dataDir, keychain, ""),
      keysInProcess(["set", "openai", "--store"], dataDir, keychain, "sk-one\nsk-two\n"),
      keysInProcess(["set", "bad name", "--store"], dataDir, keychain, "sk-x"),
      keysInProcess(["set", "anthropic"], dataDir, keychain, "sk-ant-keychain-please"),
    ]);
    assert.equal(argv.code, 2);
    assert.match(argv.err, /too many arguments for 'set'/);
    assert.equal(empty.code, 2);
    assert.match(empty.err, /^tandem keys set: no key given: pipe it to stdin/m);
    assert.equal(lines.code, 2);
    assert.match(lines.err, /expected one key on stdin, got 2 lines/);
    assert.equal(name.code, 2);
    assert.match(name.err, /'bad name' is not a valid key name/);
    // Without --store the key goes to the OS keychain; without one, a clear error and a way out.
    assert.equal(noKeychain.code, 1);
    assert.equal(
      noKeychain.err,
      "tandem keys set: OS keychain: no Secret Service is running on this session's D-Bus\n  to keep the key in the encrypted store instead: tandem keys set anthropic --store\n",
    );
    assert.equal(keychain.entries.size, 0);
    assert.equal(existsSync(join(dataDir, "tandem.db")), false, "nothing was stored");
    const list = await keysInProcess(["list", "--json"], dataDir, keychain);
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(JSON.parse(list.out), []);
  });
});

/** Runs `tandem keys ...` in this process, with its own stdin, outputs and keychain. */
async function keysInProcess(
  args: string[],
  dataDir: string,
  keychain: FakeKeychain,
  input = "",
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  let code = 0;
  try {
    await keysCommand({
      stdin: Readable.from([input]),
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      env: {},
      keychain,
      setExitCode: (c) => {
        code = c;
      },
      exit: (c) => {
        throw new ExitCalled(c);
      },
    }).parseAsync([...args, "--data-dir", dataDir], { from: "user" });
  } catch (e) {
    if (!(e instanceof ExitCalled)) throw e;
    code = e.code;
  }
  return { code, out, err };
}

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
