/**
 * `tandem memory add|list|search|forget` run in process against a real server (its /v1/memories
 * API), with the server's key required: what the user sees, the exit codes, and the server's errors
 * passed on.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { type MemoryCommandIo, memoryCommand } from "../../src/cli/memory.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;

before(async () => {
  tandem = await startTandem({}, { clientKeys: ["cli-test-key"] });
});
after(() => tandem.close());

async function memory(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stdin?: MemoryCommandIo["stdin"],
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  let code = 0;
  const io: MemoryCommandIo = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { TANDEM_URL: tandem.url, TANDEM_API_KEY: "cli-test-key", ...env },
    setExitCode: (c) => {
      code = c;
    },
    exit: (c) => {
      throw new Error(`exit ${c}: ${err}`);
    },
    ...(stdin && { stdin }),
  };
  await memoryCommand(io).parseAsync(args, { from: "user" });
  return { code, out, err };
}

describe("tandem memory", () => {
  it("adds, lists, searches and forgets", async () => {
    const added = await memory(["add", "The", "user", "keeps", "bees", "-m", "from=cli"]);
    assert.equal(added.code, 0, added.err);
    const id = /remembered (mem_\w+) \(public\)/.exec(added.out)?.[1];
    assert.ok(id, added.out);
    const secret = await memory(["add", "--private", "The user's therapist is Dr Rowe"]);
    assert.match(secret.out, /remembered mem_\w+ \(private\)/);

    const listed = await memory(["list"]);
    assert.equal(listed.code, 0);
    assert.match(listed.out, /^ID\s+CREATED \(UTC\)\s+SENSITIVITY\s+TEXT/);
    assert.ok(listed.out.indexOf("therapist") < listed.out.indexOf("bees"), "newest first");

    const found = await memory(["search", "bees", "honey", "--json"]);
    const list = JSON.parse(found.out) as { data: { id: string; score: number; metadata: Record<string, string> }[] };
    assert.deepEqual(
      list.data.map((m) => m.id),
      [id],
    );
    assert.deepEqual(list.data[0]?.metadata, { from: "cli" });
    assert.match((await memory(["search", "submarines"])).out, /no memory matches/);

    const forgot = await memory(["forget", id]);
    assert.equal(forgot.code, 0);
    assert.equal(forgot.out, `forgot ${id}\n`);
    const again = await memory(["forget", id]);
    assert.equal(again.code, 1);
    assert.equal(again.err, `tandem memory forget: Memory with id '${id}' not found.\n`);
    assert.doesNotMatch((await memory(["list"])).out, /bees/);
  });

  it("passes the server's refusals on: a wrong key, bad input, no server", async () => {
    const refused = await memory(["list"], { TANDEM_API_KEY: "wrong" });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^tandem memory list: Invalid or missing API key/);
    const tooLong = await memory(["add", "x".repeat(5000)]);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.err, /at most 4000 characters/);
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const away = await memory(["list"], { TANDEM_URL: `http://127.0.0.1:${port}` });
    assert.equal(away.code, 1);
    assert.match(away.err, new RegExp(`cannot reach tandem at http://127\\.0\\.0\\.1:${port}`));
  });

  it("reads the text from stdin when none is given (a command line shows in ps)", async () => {
    const piped = await memory(["add", "--json"], {}, Readable.from(["The user's locker ", "is number 42\n"]));
    assert.equal(piped.code, 0, piped.err);
    assert.equal((JSON.parse(piped.out) as { text: string }).text, "The user's locker is number 42");
    const terminal = Object.assign(Readable.from([]), { isTTY: true });
    const none = await memory(["add"], {}, terminal);
    assert.equal(none.code, 2);
    assert.match(none.err, /give the text to remember, or pipe it in/);
  });

  it("refuses bad usage before calling the server", async () => {
    await assert.rejects(memory(["list", "--limit", "0"]), /exit 2/);
    await assert.rejects(memory(["add", "-m", "novalue", "text"]), /exit 2/);
  });
});
