import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { GatewayError, ProviderKeyMissingError } from "../../src/core/index.js";
import { KEY_CACHE_MS, KeyPool, KeyUnavailableError, parseKeyRef, resolveKeyRef } from "../../src/secrets/index.js";
import { openStore } from "../../src/store/index.js";
import { tempDataDir } from "../store/store-support.js";
import { FakeKeychain } from "./fake-keychain.js";

function ref(text: string) {
  const parsed = parseKeyRef(text);
  if (!parsed) throw new Error(`bad ref ${text}`);
  return parsed;
}

describe("key references", () => {
  const store = openStore({ dataDir: tempDataDir(), key: randomBytes(32), pruneIntervalMs: 0, report: () => {} });
  after(() => {
    store.close();
  });

  it("reads env: at call time, as before", async () => {
    assert.equal(await resolveKeyRef(ref("env:K"), { K: "sk-env" }), "sk-env");
    assert.equal(await resolveKeyRef(ref("env:K"), { K: "" }), undefined);
    assert.equal(await resolveKeyRef(ref("env:K"), {}), undefined);
  });

  it("reads keychain:NAME from the keychain (service tandem, account NAME), afresh each time", async () => {
    const keychain = new FakeKeychain({ entries: { anthropic: "sk-ant-1" } });
    const pool = new KeyPool([ref("keychain:anthropic")], {}, { keychain });
    assert.equal(await pool.current(), "sk-ant-1");
    keychain.entries.set("anthropic", "sk-ant-2"); // rotated in the keychain
    assert.equal(await pool.current(), "sk-ant-2");
    keychain.entries.delete("anthropic");
    assert.equal(await pool.current(), undefined);
  });

  it("reads store:NAME from the store's secrets table, afresh each time", async () => {
    store.setSecret("openai", "sk-store-1");
    const pool = new KeyPool([ref("store:openai")], {}, { store });
    assert.equal(await pool.current(), "sk-store-1");
    store.setSecret("openai", "sk-store-2");
    assert.equal(await pool.current(), "sk-store-2");
    assert.equal(await resolveKeyRef(ref("store:openai"), {}, { store }), "sk-store-2");
    assert.equal(await resolveKeyRef(ref("store:nothing"), {}, { store }), undefined);
    // A store that answers asynchronously (the server's, on its own thread) reads the same.
    assert.equal(
      await resolveKeyRef(ref("store:openai"), {}, { store: { getSecret: async (n) => store.getSecret(n) } }),
      "sk-store-2",
    );
  });

  it("reads a pool's keys for requests at most every KEY_CACHE_MS, and at once again after forget()", async () => {
    const keychain = new FakeKeychain({ entries: { a: "sk-a1", b: "sk-b1" } });
    let reads = 0;
    const counting = Object.assign(Object.create(keychain) as FakeKeychain, {
      get: (account: string) => {
        reads++;
        return keychain.get(account);
      },
    });
    let now = 1_000_000;
    const pool = new KeyPool([ref("keychain:a"), ref("keychain:b")], {}, { keychain: counting }, () => now);
    // Requests arriving together share one read.
    const together = await Promise.all([pool.all("p"), pool.all("p"), pool.all("p")]);
    assert.deepEqual(together, [
      ["sk-a1", "sk-b1"],
      ["sk-a1", "sk-b1"],
      ["sk-a1", "sk-b1"],
    ]);
    assert.equal(reads, 2);
    assert.deepEqual(await pool.all("p"), ["sk-a1", "sk-b1"]);
    keychain.entries.set("a", "sk-a2");
    now += KEY_CACHE_MS - 1;
    assert.deepEqual(await pool.all("p"), ["sk-a1", "sk-b1"], "within the window: no keychain round trip");
    assert.equal(reads, 2);
    now += 1;
    assert.deepEqual(await pool.all("p"), ["sk-a2", "sk-b1"], "after it: read again");
    keychain.entries.set("b", "sk-b2");
    pool.forget();
    assert.deepEqual(await pool.all("p"), ["sk-a2", "sk-b2"], "after forget(): read again at once");
    assert.equal(reads, 6);
    // A failed read is not kept: the next request tries again.
    keychain.unavailable = "locked";
    pool.forget();
    await assert.rejects(pool.all("p"), GatewayError);
    keychain.unavailable = undefined;
    assert.deepEqual(await pool.all("p"), ["sk-a2", "sk-b2"]);
  });

  it("resolves concurrently without mixing keys up", async () => {
    const keychain = new FakeKeychain();
    for (let i = 0; i < 50; i++) {
      keychain.entries.set(`k${i}`, `v${i}`);
      store.setSecret(`s${i}`, `w${i}`);
    }
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        Promise.all([resolveKeyRef(ref(`keychain:k${i}`), {}, { keychain }), resolveKeyRef(ref(`store:s${i}`), {}, { store })]),
      ),
    );
    results.forEach(([k, s], i) => {
      assert.equal(k, `v${i}`);
      assert.equal(s, `w${i}`);
    });
  });

  it("says clearly why a keychain: or store: reference cannot be read, and falls through to the next reference", async () => {
    const keychain = new FakeKeychain({ unavailable: "no Secret Service is running on this session's D-Bus" });
    await assert.rejects(
      resolveKeyRef(ref("keychain:anthropic"), {}, { keychain }),
      (err: unknown) =>
        err instanceof KeyUnavailableError &&
        err.message.startsWith("keychain:anthropic cannot be read: OS keychain: no Secret Service is running") &&
        err.message.includes("tandem keys set anthropic --store"),
    );
    await assert.rejects(
      resolveKeyRef(ref("store:openai"), {}),
      /^KeyUnavailableError: store:openai cannot be read: the encrypted store is not open in this process/,
    );

    const pool = new KeyPool(
      [ref("keychain:anthropic"), ref("store:openai"), ref("env:ANTHROPIC_API_KEY")],
      { ANTHROPIC_API_KEY: "sk-env" },
      { keychain },
    );
    assert.equal(await pool.current(), "sk-env");
    const none = new KeyPool([ref("keychain:anthropic"), ref("env:MISSING")], {}, { keychain });
    await assert.rejects(
      none.require("claude"),
      // tandem's own missing configuration, never the client's key refused (401): a 503 naming what to set.
      (err: unknown) =>
        err instanceof ProviderKeyMissingError &&
        err.code === "unavailable" &&
        err.status === 503 &&
        err.message.startsWith(
          "tandem has no API key for provider 'claude' (tried keychain:anthropic cannot be read: OS keychain: no Secret Service",
        ) &&
        err.message.includes("; env:MISSING: not set): set the key its apiKeys name"),
    );
  });

  it("reports a store that fails as unavailable, not as a missing key", async () => {
    const closed = openStore({ dataDir: tempDataDir(), key: randomBytes(32), pruneIntervalMs: 0, report: () => {} });
    closed.close();
    await assert.rejects(
      resolveKeyRef(ref("store:x"), {}, { store: closed }),
      /^KeyUnavailableError: store:x cannot be read: the store .* is closed/,
    );
  });
});
