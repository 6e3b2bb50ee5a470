/**
 * `tandem chat` and `tandem status` take the client key from TANDEM_API_KEY or, on a terminal, a
 * hidden prompt after a 401; `--key` still works, with a warning that `ps` shows it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { clientKey, fetchWithKey } from "../../src/cli/client.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

const KEY = "client-key-0123456789abcdef";

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [TANDEM_CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
}

/** A terminal's stdin that types `text` once the prompt is shown. */
function terminal(text: string) {
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    rawMode: false,
    setRawMode(mode: boolean) {
      this.rawMode = mode;
    },
  });
  let shown = "";
  const stderr = {
    write(chunk: string) {
      shown += chunk;
      if (chunk.includes("API key")) setImmediate(() => stdin.write(`${text}\r`));
      return true;
    },
  };
  return { io: { stdin, stderr }, shown: () => shown };
}

describe("the CLI's client key", () => {
  let tandem: RunningTandem;

  before(async () => {
    tandem = await startTandem({ providers: {} }, { clientKeys: [KEY] });
  });

  after(async () => {
    await tandem?.close();
  });

  it("takes TANDEM_API_KEY without a word, and warns that --key shows in ps", () => {
    const stderr = {
      text: "",
      write(t: string) {
        this.text += t;
      },
    };
    assert.equal(clientKey(undefined, "status", { asks: true, env: { TANDEM_API_KEY: KEY }, stderr }), KEY);
    assert.equal(stderr.text, "");
    assert.equal(clientKey(undefined, "status", { asks: true, env: {}, stderr }), undefined);
    assert.equal(clientKey("flag-key", "status", { asks: true, env: { TANDEM_API_KEY: KEY }, stderr }), "flag-key");
    assert.match(stderr.text, /--key is visible to other users .*\(ps\).*TANDEM_API_KEY instead, or leave it out to be asked/);
    // A command that stops at a 401 instead of asking does not offer to ask.
    stderr.text = "";
    assert.equal(clientKey("flag-key", "ps", { env: {}, stderr }), "flag-key");
    assert.match(stderr.text, /TANDEM_API_KEY instead\n$/);
  });

  it("asks on a terminal after a 401, hidden, and sends the key typed", async () => {
    const send = (headers: Record<string, string>) => fetch(`${tandem.url}/v1/status`, { headers });
    const tty = terminal(KEY);
    const { res, key } = await fetchWithKey(send, undefined, tandem.url, tty.io);
    assert.equal(res.status, 200);
    assert.equal(key, KEY);
    assert.match(tty.shown(), /API key for tandem at .* \(input hidden\)/);
    assert.ok(!tty.shown().includes(KEY), "the key typed is not echoed");
    assert.equal(tty.io.stdin.rawMode, false, "the terminal is back to normal");
  });

  it("does not ask when stdin is no terminal, or when the key works", async () => {
    const send = (headers: Record<string, string>) => fetch(`${tandem.url}/v1/status`, { headers });
    const piped = { stdin: Object.assign(new PassThrough(), { isTTY: false }), stderr: { write: () => true } };
    assert.equal((await fetchWithKey(send, undefined, tandem.url, piped)).res.status, 401);
    const tty = terminal("never typed");
    assert.equal((await fetchWithKey(send, KEY, tandem.url, tty.io)).res.status, 200);
    assert.equal(tty.shown(), "");
  });

  it("tandem status works with TANDEM_API_KEY, and with --key plus a warning", async () => {
    const fromEnv = await runCli(["status", "--url", tandem.url], { TANDEM_API_KEY: KEY });
    assert.equal(fromEnv.code, 0, fromEnv.err);
    assert.match(fromEnv.out, /tandem .* at http/);
    assert.equal(fromEnv.err, "");
    const fromFlag = await runCli(["status", "--url", tandem.url, "--key", KEY], {});
    assert.equal(fromFlag.code, 0, fromFlag.err);
    assert.match(fromFlag.err, /warning: --key is visible to other users/);
    const none = await runCli(["status", "--url", tandem.url], {});
    assert.equal(none.code, 1);
    // The server's message and the status, as `tandem ps` prints them; not the raw JSON body.
    assert.match(none.err, /^tandem status: Invalid or missing API key: .* \(401\)\n$/);
    assert.doesNotMatch(none.err, /\{"error"/);
  });
});
