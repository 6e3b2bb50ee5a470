/**
 * A model split in parts on the hub (`*-00001-of-00003.gguf`) is pulled whole through Ollama's
 * /api/pull: every part, each checked against the hub's sha256, reported as one transfer, installed
 * as `<name>-0000i-of-00003.gguf`, listed once and served (llama.cpp loads the parts from the first).
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { Ollama } from "ollama";
import { modelsCommand } from "../../src/cli/models.js";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { makeModelDir } from "../support/gguf/index.js";
import { writeSplitChatModel } from "../support/gguf/split-model.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let hub: FakeHfHub;
let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let partSizes: number[];

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const paths = await writeSplitChatModel(made.dir, "tiny-Q8_0", 3, { answer: "Split but whole." });
  const files = await Promise.all(paths.map(async (p) => ({ path: basename(p), content: await readFile(p) })));
  partSizes = files.map((f) => f.content.length);
  hub = await startFakeHfHub({
    repos: [
      { id: "tandem-tests/Split-GGUF", files },
      { id: "tandem-tests/Tampered-GGUF", files },
    ],
  });
  tandem = await startTandem({ providers: { local: { kind: "llamacpp", threads: 1 } } }, { env: { HF_ENDPOINT: hub.url } });
});

after(async () => {
  await tandem?.close();
  await hub?.close();
  await cleanup?.();
});

describe("split GGUF pulls", () => {
  it("pulls every part with one progress total, lists the model once and serves it", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const totals = new Set<number>();
    let completed = 0;
    const statuses: string[] = [];
    for await (const part of await ollama.pull({ model: "hf.co/tandem-tests/Split-GGUF:Q8_0", stream: true })) {
      statuses.push(part.status);
      if (part.total) {
        totals.add(part.total);
        assert.ok(part.completed >= completed, "progress never goes back");
        completed = part.completed;
      }
    }
    const whole = partSizes.reduce((a, b) => a + b, 0);
    assert.deepEqual([...totals], [whole], "one transfer over all parts");
    assert.equal(completed, whole);
    assert.deepEqual(statuses.slice(-3), ["verifying sha256 digest", "writing manifest", "success"]);
    assert.equal(statuses.filter((s) => s === "verifying sha256 digest").length, 1);
    const cdn = hub.requests.filter((r) => r.server === "cdn" && r.method === "GET");
    assert.equal(cdn.length, 3, "each part fetched once");

    const installed = (await readdir(join(tandem.dataDir, "models"))).sort();
    assert.deepEqual(installed, [
      "tiny-Q8_0-00001-of-00003.gguf",
      "tiny-Q8_0-00002-of-00003.gguf",
      "tiny-Q8_0-00003-of-00003.gguf",
    ]);
    const listed = (await ollama.list()).models.map((m) => m.name).filter((n) => n.startsWith("local/"));
    // One model for all its parts, also listed by the name it was pulled by (as Ollama lists it).
    assert.deepEqual(listed.sort(), ["local/hf.co/tandem-tests/Split-GGUF:Q8_0", "local/tiny-Q8_0"]);
    const answer = await ollama.chat({ model: "local/tiny-Q8_0", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(answer.message.content, "Split but whole.");

    await ollama.delete({ model: "local/tiny-Q8_0" });
    assert.deepEqual(await readdir(join(tandem.dataDir, "models")), [], "delete removes every part");
  });

  it("tandem models pull shows one progress display over all parts", async () => {
    const dataDir = join(tandem.dataDir, "cli");
    let stderr = "";
    let code: number | undefined;
    const program = new Command("tandem").exitOverride().addCommand(
      modelsCommand({
        stdout: { write: () => true },
        stderr: { write: (text: string) => (stderr += text), isTTY: false },
        env: { HF_ENDPOINT: hub.url },
        setExitCode: (c) => {
          code = c;
        },
        exit: (c) => {
          throw new Error(`exit ${c}`);
        },
      }),
    );
    await program.parseAsync(["models", "pull", "tandem-tests/Split-GGUF:Q8_0", "--data-dir", dataDir], { from: "user" });
    assert.equal(code ?? 0, 0, stderr);
    const lines = stderr.trim().split("\n");
    assert.match(lines[0] ?? "", /^pulling tiny-Q8_0: tandem-tests\/Split-GGUF tiny-Q8_0-00001-of-00003\.gguf .*in 3 parts/);
    const progress = lines.filter((l) => /^tiny-Q8_0: \d+%/.test(l));
    assert.ok(progress.length >= 2, stderr);
    const totals = new Set(progress.map((l) => / \/ (\S+ \S+)/.exec(l)?.[1]));
    assert.equal(totals.size, 1, `one total for all parts: ${[...totals].join(", ")}`);
    assert.match(progress.at(-1) ?? "", /^tiny-Q8_0: 100%/);
    assert.equal(lines.filter((l) => l.startsWith("verifying")).length, 1);
    assert.equal((await readdir(join(dataDir, "models"))).length, 3);
  });

  it("refuses a part whose sha256 does not match the hub's, installing nothing", async () => {
    hub.faults.wrongChecksum = true;
    try {
      const res = await fetch(`${tandem.url}/api/pull`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "hf.co/tandem-tests/Tampered-GGUF:Q8_0", stream: false }),
      });
      assert.ok(res.status >= 400, `status ${res.status}`);
      assert.match(((await res.json()) as { error: string }).error, /sha256|checksum/i);
      const left = (await readdir(join(tandem.dataDir, "models"))).filter((f) => f.endsWith(".gguf"));
      assert.deepEqual(left, []);
    } finally {
      hub.faults.wrongChecksum = false;
    }
  });
});
